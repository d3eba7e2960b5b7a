import WebSocket from 'ws';
import { LlmError } from './LlmProvider.ts';
import { llmErrorForStatus, unreachableError } from './upstreamErrors.ts';

/** A frame the server sent, already parsed from JSON. */
export type Frame = Record<string, unknown>;

/** One request waiting for its frames. */
interface Pending {
  onFrame(frame: Frame): void;
  /** The connection went away before the request ended. */
  onClosed(): void;
}

export interface WebSocketConnectionOptions {
  url: string;
  /** Sent as `Authorization: Bearer <key>` on the upgrade request; none when null or empty. */
  apiKey: string | null;
  /** One connection attempt at most this long. */
  connectTimeoutMs: number;
  /** Connection attempts after the first one failed, waiting `backoffMs`, doubled each time. */
  connectRetries: number;
  backoffMs?: number;
}

/**
 * One persistent WebSocket to a custom model service, shared by every answer of a worker process
 * that uses that provider (so many answers ride one connection). Why a class of its own: the
 * socket outlives requests. It connects lazily on the first request, reconnects (with backoff)
 * on the next request after it dropped, and routes each incoming frame to its request by the
 * request id the server echoes in `metadata.requestId`; a frame without a known id is ignored.
 * When the socket closes, every pending request is told, so none waits forever. The key goes
 * only into the upgrade request's header: errors are our own messages, never ws's.
 */
export class WebSocketConnection {
  private readonly options: WebSocketConnectionOptions;
  private socket: WebSocket | null = null;
  private opening: Promise<WebSocket> | null = null;
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  constructor(options: WebSocketConnectionOptions) {
    this.options = options;
  }

  /** Requests waiting for frames (tests, and a quick look at load). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The open socket, connecting (with retries) if there is none; throws a retryable LlmError. */
  async ready(signal?: AbortSignal): Promise<WebSocket> {
    if (this.closed) throw unreachableError(new Error('connection closed'));
    if (this.socket?.readyState === WebSocket.OPEN) return this.socket;
    this.opening ??= this.connectWithRetries(signal).finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  /**
   * Sends one request's frame and routes the frames echoing `id` to `pending` until the returned
   * release is called. Throws (retryable) when the socket is not open.
   */
  async send(id: string, payload: Frame, pending: Pending, signal?: AbortSignal): Promise<() => void> {
    const socket = await this.ready(signal);
    this.pending.set(id, pending);
    const release = () => {
      this.pending.delete(id);
    };
    try {
      socket.send(JSON.stringify(payload));
    } catch (error) {
      release();
      throw unreachableError(error);
    }
    return release;
  }

  /** Health check: the socket opens and answers a ping with a pong within the connect timeout. */
  async ping(signal?: AbortSignal): Promise<void> {
    const socket = await this.ready(signal);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.off('pong', onPong);
        reject(unreachableError(new Error('no pong')));
      }, this.options.connectTimeoutMs);
      const onPong = () => {
        clearTimeout(timer);
        resolve();
      };
      socket.once('pong', onPong);
      socket.ping();
    });
  }

  /** Closes the socket for good (shutdown, or the provider changed); pending requests are told. */
  close(): void {
    this.closed = true;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.dropPending();
  }

  private async connectWithRetries(signal?: AbortSignal): Promise<WebSocket> {
    const backoffMs = this.options.backoffMs ?? 200;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const socket = await this.connect();
        if (this.closed) {
          socket.close();
          throw new Error('connection closed');
        }
        return socket;
      } catch (error) {
        // A refusal by status (401: our key) is the service's answer: no retry will change it.
        if (error instanceof LlmError && !error.retryable) throw error;
        if (attempt >= this.options.connectRetries || signal?.aborted || this.closed)
          throw error instanceof LlmError ? error : unreachableError(error);
        await delay(backoffMs * 2 ** attempt, signal);
      }
    }
  }

  private connect(): Promise<WebSocket> {
    const { url, apiKey, connectTimeoutMs } = this.options;
    const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers, handshakeTimeout: connectTimeoutMs });
      const onOpenError = (error: Error) => {
        socket.removeAllListeners();
        socket.on('error', () => {});
        socket.terminate();
        reject(error);
      };
      socket.once('error', onOpenError);
      // The server answered the upgrade with a status (401: our key): final or not by that status.
      socket.once('unexpected-response', (_request, response) =>
        onOpenError(llmErrorForStatus(response.statusCode, undefined)),
      );
      socket.once('open', () => {
        socket.off('error', onOpenError);
        socket.on('error', () => {
          // 'close' follows and tells the pending requests.
        });
        socket.on('message', (data) => this.route(data));
        socket.once('close', () => {
          if (this.socket === socket) this.socket = null;
          this.dropPending();
        });
        this.socket = socket;
        resolve(socket);
      });
    });
  }

  private route(data: WebSocket.RawData): void {
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return; // Not JSON: not an answer to anything we asked.
    }
    if (!frame || typeof frame !== 'object') return;
    const metadata = (frame as Frame).metadata as Frame | undefined;
    const id = metadata && typeof metadata.requestId === 'string' ? metadata.requestId : undefined;
    if (id) this.pending.get(id)?.onFrame(frame as Frame);
  }

  private dropPending(): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const request of pending) request.onClosed();
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
