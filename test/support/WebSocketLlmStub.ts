/**
 * WebSocketLlmStub: a local `ws` server speaking the custom-LLM WebSocket protocol
 * (src/llm/WebSocketProvider.ts), for tests only. Each request frame is answered by the current
 * mode: `streamed` (delta frames, then the final frame), `whole` (the final frame only), `slow`
 * (nothing), `drop-after-deltas` (two deltas, then the connection is cut). `stop()` closes the
 * port (a down server), `restart()` listens on the same port again. The upgrade requests'
 * headers are recorded, to check what was (not) sent.
 *
 *   const stub = await WebSocketLlmStub.start();
 *   stub.mode = 'whole';
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export type StubMode = 'streamed' | 'whole' | 'slow' | 'drop-after-deltas';

export interface StubRequest {
  message: string;
  model: string;
  metadata: { requestId: string; messages: Array<{ role: string; content: string }> };
  settings: { max_tokens: number; temperature: number; stream: boolean };
}

type StubEvents = { request: [StubRequest]; connection: [IncomingHttpHeaders] };

export class WebSocketLlmStub extends EventEmitter<StubEvents> {
  mode: StubMode = 'streamed';
  /** Field names the stub answers with (ours → its own), to test a provider's fieldMap. */
  fields: Partial<Record<'response' | 'delta', string>> = {};
  /**
   * Holds requests until this many arrived, then answers them last first with their frames
   * interleaved (a correlation test); null answers each at once.
   */
  batch: number | null = null;
  private held: Array<{ socket: WebSocket; request: StubRequest }> = [];
  /** Answers the upgrade with this status instead (401: a wrong key); null accepts it. */
  refuseUpgrade: number | null = null;
  readonly requests: StubRequest[] = [];
  /** The headers of every upgrade request, in order. */
  readonly handshakes: IncomingHttpHeaders[] = [];
  private server: WebSocketServer;
  private readonly port: number;

  private constructor(server: WebSocketServer, port: number) {
    super();
    this.server = server;
    this.port = port;
    this.attach();
  }

  static async start(): Promise<WebSocketLlmStub> {
    const stub: { current?: WebSocketLlmStub } = {};
    const server = await listen(0, () => stub.current?.refuseUpgrade ?? null);
    stub.current = new WebSocketLlmStub(server, (server.address() as AddressInfo).port);
    return stub.current;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The answer's words for a request: names the model and echoes the message. */
  tokensFor(request: StubRequest): string[] {
    return ['Socket ', 'answer ', `from ${request.model}`, '.'];
  }

  /** Closes the port and every connection: the service is down. */
  async stop(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens on the same port again. */
  async restart(): Promise<void> {
    this.server = await listen(this.port, () => this.refuseUpgrade);
    this.attach();
  }

  close(): Promise<void> {
    return this.stop();
  }

  private attach(): void {
    this.server.on('connection', (socket, upgrade) => {
      this.handshakes.push(upgrade.headers);
      this.emit('connection', upgrade.headers);
      socket.on('message', (data) => this.answer(socket, JSON.parse(data.toString()) as StubRequest));
    });
  }

  private answer(socket: WebSocket, request: StubRequest): void {
    this.requests.push(request);
    this.emit('request', request);
    const metadata = { requestId: request.metadata.requestId };
    const tokens = this.tokensFor(request);
    const send = (frame: object) => socket.send(JSON.stringify(frame));
    const delta = this.fields.delta ?? 'delta';
    if (this.mode === 'slow') return;
    if (this.mode === 'drop-after-deltas') {
      for (const token of tokens.slice(0, 2)) send({ [delta]: token, metadata });
      // Let the deltas out, then cut the connection without a close frame.
      socket.send('', () => socket.terminate());
      return;
    }
    if (this.batch !== null) {
      this.held.push({ socket, request });
      if (this.held.length < this.batch) return;
      const held = this.held.splice(0).reverse();
      const frames = held.map((entry) => this.framesFor(entry.request));
      for (let index = 0; index < Math.max(...frames.map((list) => list.length)); index += 1)
        held.forEach((entry, which) => {
          const frame = frames[which]![index];
          if (frame) entry.socket.send(JSON.stringify(frame));
        });
      return;
    }
    for (const frame of this.framesFor(request)) send(frame);
  }

  /** A streamed or whole answer's frames. */
  private framesFor(request: StubRequest): object[] {
    const metadata = { requestId: request.metadata.requestId };
    const tokens = this.tokensFor(request);
    const deltas =
      this.mode === 'streamed'
        ? tokens.map((token) => ({ [this.fields.delta ?? 'delta']: token, metadata }))
        : [];
    return [
      ...deltas,
      {
        [this.fields.response ?? 'response']: tokens.join(''),
        tokens_used: tokens.length,
        model: request.model,
        finish_reason: 'stop',
        metadata,
      },
    ];
  }
}

function listen(port: number, refusal: () => number | null): Promise<WebSocketServer> {
  return new Promise((resolve, reject) => {
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port,
      verifyClient: (_info, accept) => {
        const status = refusal();
        if (status === null) accept(true);
        else accept(false, status);
      },
    });
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}
