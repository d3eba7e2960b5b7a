import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import Groq from 'groq-sdk';
import { Server, type Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/relay/events.ts';

const MODEL = 'llama-3.1-8b-instant';

/** Typed by the pipeline's own contract, so both systems send the clients the same events. */
type BaselineServer = Server<ClientToServerEvents, ServerToClientEvents>;
type BaselineSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/**
 * The baseline: the least a relay can do. A node:http + Socket.IO server whose chat:send handler
 * acks at once, calls the model itself with groq-sdk (stream: true) and emits every delta straight
 * to the asking socket as chat:token (seq 1, 2, …), then chat:done. No queue, no Redis, no
 * database, no coalescing. It accepts any non-empty handshake token.
 */
export class DirectRelay {
  readonly url: string;
  private readonly io: BaselineServer;

  private constructor(io: BaselineServer, http: HttpServer) {
    this.io = io;
    this.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  static async start(groqBaseURL: string): Promise<DirectRelay> {
    const http = createServer();
    const io: BaselineServer = new Server(http, { transports: ['websocket'], serveClient: false });
    const groq = new Groq({ apiKey: 'x', baseURL: groqBaseURL, maxRetries: 0 });
    io.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown }).token;
      next(typeof token === 'string' && token ? undefined : new Error('unauthorized'));
    });
    io.on('connection', (socket) => {
      socket.on('chat:send', (payload: { content?: unknown; conversationId?: unknown }, ack: unknown) => {
        const content = typeof payload?.content === 'string' ? payload.content : '';
        const conversationId =
          typeof payload?.conversationId === 'string' ? payload.conversationId : randomUUID();
        const messageId = randomUUID();
        if (typeof ack === 'function')
          ack(null, { conversationId, userMessageId: randomUUID(), assistantMessageId: messageId });
        void relay(groq, socket, conversationId, messageId, content);
      });
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, '127.0.0.1', () => resolve());
    });
    return new DirectRelay(io, http);
  }

  /** Disconnects every socket and closes the HTTP server. */
  async close(): Promise<void> {
    this.io.disconnectSockets(true);
    await this.io.close();
  }
}

async function relay(
  groq: Groq,
  socket: BaselineSocket,
  conversationId: string,
  messageId: string,
  content: string,
): Promise<void> {
  const startedAt = performance.now();
  let ttftMs: number | null = null;
  let text = '';
  let seq = 0;
  try {
    const stream = await groq.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content }],
      stream: true,
    });
    let usage = { promptTokens: 0, completionTokens: 0 };
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      const reported = chunk.x_groq?.usage;
      if (reported)
        usage = { promptTokens: reported.prompt_tokens, completionTokens: reported.completion_tokens };
      if (!delta) continue;
      ttftMs ??= Math.round(performance.now() - startedAt);
      text += delta;
      seq += 1;
      socket.emit('chat:token', { conversationId, messageId, seq, delta });
    }
    socket.emit('chat:done', {
      conversationId,
      messageId,
      status: 'complete',
      content: text,
      usage,
      citations: [],
      model: MODEL,
      ttftMs,
      latencyMs: Math.round(performance.now() - startedAt),
    });
  } catch (error) {
    socket.emit('chat:error', {
      conversationId,
      messageId,
      code: 'llm_unavailable',
      message: (error as Error).message,
      retryable: true,
    });
  }
}
