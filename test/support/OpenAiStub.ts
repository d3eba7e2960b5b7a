/**
 * OpenAiStub: a local HTTP server speaking OpenAI's chat-completions wire format (what vLLM,
 * Ollama, LM Studio and OpenRouter serve), as the `openai` client parses it: `/v1/models` and
 * `/v1/chat/completions`, streamed (SSE, with tool-call deltas and the `include_usage` chunk) or
 * whole. Test support only; never imported by src/.
 *
 *   const stub = await OpenAiStub.start();
 *   new OpenAI({ apiKey: 'k', baseURL: stub.baseURL }) // baseURL ends in /v1
 *   stub.script('big', { kind: 'status', status: 429 }); // the next request for `big` gets a 429
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OpenAiRequestBody {
  model: string;
  messages: Array<{ role: string; content?: unknown; [key: string]: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: unknown[];
  [key: string]: unknown;
}

/** What one request for a model meets, consumed in order by that model's requests. */
export type OpenAiFault =
  /** An error status (429 with retry-after 0, 500, 401…) before anything is streamed. */
  | { kind: 'status'; status: number }
  /** Streams `afterTokens` content tokens, then drops the connection (no finish, no [DONE]). */
  | { kind: 'cut'; afterTokens: number };

/** A scripted answer: text tokens, or tool calls (streamed in fragments, finish `tool_calls`). */
export type OpenAiAnswer =
  | { tokens: string[] }
  | { toolCalls: Array<{ id: string; name: string; arguments: string }> };

export interface OpenAiRecord {
  id: number;
  body: OpenAiRequestBody;
  /** The Authorization header exactly as received. */
  authorization: string | undefined;
  status: 'streaming' | 'completed' | 'failed';
  httpStatus?: number;
  tokensSent: number;
}

type StubEvents = { request: [OpenAiRecord]; completed: [OpenAiRecord]; failed: [OpenAiRecord] };

export class OpenAiStub extends EventEmitter<StubEvents> {
  readonly requests: OpenAiRecord[] = [];
  /** Ends in `/v1`, as an OpenAI-compatible base URL does. */
  readonly baseURL: string;
  /** Authorization headers of `GET /v1/models` requests. */
  readonly modelListAuthorizations: Array<string | undefined> = [];
  /** Answers by model; the default answer names the model. */
  answer: (body: OpenAiRequestBody) => OpenAiAnswer = (body) => ({
    tokens: ['Answer ', 'from ', `${body.model}`, '.'],
  });
  /** Pause between tokens (ms), so a test can act mid-answer; 0 sends them all in one go. */
  tokenIntervalMs = 1;

  readonly #server: Server;
  readonly #faults = new Map<string, OpenAiFault[]>();
  #nextId = 1;

  private constructor(server: Server) {
    super();
    this.setMaxListeners(0);
    this.#server = server;
    this.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    server.on('request', (req, res) => {
      this.#handle(req, res).catch(() => res.destroy());
    });
  }

  static async start(): Promise<OpenAiStub> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new OpenAiStub(server);
  }

  /** The next requests for `model` meet these faults, one each, in order. */
  script(model: string, ...faults: OpenAiFault[]): this {
    this.#faults.set(model, [...(this.#faults.get(model) ?? []), ...faults]);
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.modelListAuthorizations.length = 0;
    this.#faults.clear();
  }

  requestsFor(model: string): OpenAiRecord[] {
    return this.requests.filter((record) => record.body.model === model);
  }

  /** The first request, past or future, that reached `event` and matches `predicate`. */
  waitFor(
    event: 'request' | 'completed' | 'failed',
    predicate: (record: OpenAiRecord) => boolean = () => true,
  ): Promise<OpenAiRecord> {
    const reached = (record: OpenAiRecord) =>
      (event === 'request' || record.status === event) && predicate(record);
    const past = this.requests.find(reached);
    if (past) return Promise.resolve(past);
    return new Promise((resolve) => {
      const listener = (record: OpenAiRecord) => {
        if (!predicate(record)) return;
        this.off(event, listener);
        resolve(record);
      };
      this.on(event, listener);
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://stub').pathname;
    if (req.method === 'GET' && path === '/v1/models') {
      req.resume();
      this.modelListAuthorizations.push(req.headers.authorization);
      sendJson(res, 200, { object: 'list', data: [{ id: 'stub-model', object: 'model', owned_by: 'stub' }] });
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      req.resume();
      sendJson(res, 404, openAiError('Not found', 'invalid_request_error'));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OpenAiRequestBody;
    const record: OpenAiRecord = {
      id: this.#nextId++,
      body,
      authorization: req.headers.authorization,
      status: 'streaming',
      tokensSent: 0,
    };
    this.requests.push(record);
    this.emit('request', record);
    const fault = this.#faults.get(body.model)?.shift();
    if (fault?.kind === 'status') {
      record.httpStatus = fault.status;
      const headers: Record<string, string> = fault.status === 429 ? { 'retry-after': '0' } : {};
      sendJson(res, fault.status, openAiError(`Scripted ${fault.status}`, 'stub_fault'), headers);
      this.#end(record, 'failed');
      return;
    }
    const answer = this.answer(body);
    if (!body.stream) {
      record.httpStatus = 200;
      const message =
        'tokens' in answer
          ? { role: 'assistant', content: answer.tokens.join('') }
          : { role: 'assistant', content: null, tool_calls: answer.toolCalls.map(wireCall) };
      sendJson(res, 200, {
        id: `chatcmpl-${record.id}`,
        object: 'chat.completion',
        created: now(),
        model: body.model,
        choices: [{ index: 0, message, finish_reason: 'tokens' in answer ? 'stop' : 'tool_calls' }],
        usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 },
      });
      this.#end(record, 'completed');
      return;
    }
    record.httpStatus = 200;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (delta: object, finish: string | null = null) =>
      res.write(
        `data: ${JSON.stringify({
          id: `chatcmpl-${record.id}`,
          object: 'chat.completion.chunk',
          created: now(),
          model: body.model,
          choices: [{ index: 0, delta, finish_reason: finish }],
        })}\n\n`,
      );
    const pause = () => new Promise((resolve) => setTimeout(resolve, this.tokenIntervalMs));
    send({ role: 'assistant', content: '' });
    if ('tokens' in answer) {
      for (const token of answer.tokens) {
        if (this.tokenIntervalMs > 0) await pause();
        send({ content: token });
        record.tokensSent += 1;
        if (fault?.kind === 'cut' && record.tokensSent >= fault.afterTokens) {
          this.#end(record, 'failed');
          res.socket?.end(() => res.socket?.destroy());
          return;
        }
      }
    } else {
      // Each call in three fragments: id and name, then the arguments in two halves.
      for (const [index, call] of answer.toolCalls.entries()) {
        const half = Math.ceil(call.arguments.length / 2);
        send({
          tool_calls: [
            { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
          ],
        });
        send({ tool_calls: [{ index, function: { arguments: call.arguments.slice(0, half) } }] });
        send({ tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] });
      }
    }
    send({}, 'tokens' in answer ? 'stop' : 'tool_calls');
    if (body.stream_options?.include_usage) {
      res.write(
        `data: ${JSON.stringify({
          id: `chatcmpl-${record.id}`,
          object: 'chat.completion.chunk',
          created: now(),
          model: body.model,
          choices: [],
          usage: {
            prompt_tokens: 10,
            completion_tokens: record.tokensSent,
            total_tokens: 10 + record.tokensSent,
          },
        })}\n\n`,
      );
    }
    res.end('data: [DONE]\n\n');
    this.#end(record, 'completed');
  }

  #end(record: OpenAiRecord, status: 'completed' | 'failed') {
    record.status = status;
    this.emit(status, record);
  }
}

const now = () => Math.floor(Date.now() / 1000);

const wireCall = (call: { id: string; name: string; arguments: string }) => ({
  id: call.id,
  type: 'function',
  function: { name: call.name, arguments: call.arguments },
});

const openAiError = (message: string, type: string) => ({
  error: { message, type, param: null, code: null },
});

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
