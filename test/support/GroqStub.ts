/**
 * GroqStub: a local HTTP server that speaks Groq's OpenAI-compatible chat-completions wire format,
 * exactly as groq-sdk parses it. Test and benchmark support only; never imported by src/.
 *
 *   const stub = await GroqStub.start({ ttftMs: 5 });
 *   const groq = new Groq({ apiKey: 'test', baseURL: stub.baseURL });
 *   // groq-sdk then calls POST {baseURL}/openai/v1/chat/completions
 *
 * Tool calling: `enqueueTurns({ toolCalls: [{ name, arguments }] }, { text: ['Done.'] })` scripts
 * the next answers (or `turn` decides per request); tool calls stream as Groq's do — delta
 * tool_calls with index, id, type and name first, the arguments in fragments across chunks, then
 * finish_reason "tool_calls" with x_groq usage. `requests[n].body` shows what the model was given
 * (messages with tool results, tools).
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

const MODELS_PATH = '/openai/v1/models';
const COMPLETIONS_PATH = '/openai/v1/chat/completions';
const SYSTEM_FINGERPRINT = 'fp_groqstub';

export interface ChatMessage {
  role: string;
  /** A string, or an array of content parts (`{ type: 'text', text }`, ...). */
  content?: unknown;
  [key: string]: unknown;
}

/** The parsed JSON body of a chat-completions request. */
export interface ChatRequestBody {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  temperature?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  /** Offered functions, as groq-sdk sends them. */
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters?: unknown } }>;
  [key: string]: unknown;
}

/** A tool call the stub's model makes; `arguments` as an object is sent as its JSON. */
export interface ScriptedToolCall {
  id?: string;
  name: string;
  arguments: string | Record<string, unknown>;
}

/**
 * One scripted answer: text tokens, then (optionally) tool calls, which end the answer with
 * finish_reason "tool_calls".
 */
export interface ScriptedTurn {
  text?: string[];
  toolCalls?: ScriptedToolCall[];
}

/** Misbehaviour queued with `enqueueFaults`; each incoming request consumes one, in order. */
export type Fault =
  /** HTTP 429 with a `retry-after` header (seconds). */
  | { kind: 'rate_limit'; retryAfterSeconds: number }
  /** HTTP 500, or the given 5xx. */
  | { kind: 'server_error'; status?: number }
  /** Streams normally, then destroys the socket after `afterTokens` content tokens (no [DONE]). */
  | { kind: 'cut'; afterTokens: number }
  /** Accepts the request and never answers, until the client aborts or the stub closes. */
  | { kind: 'hang' }
  /** HTTP 400 `tool_use_failed`, as Groq answers when the model wrote a tool call it can't parse. */
  | { kind: 'tool_use_failed' };

export interface StubOptions {
  /** Delay before the first content token (ms). */
  ttftMs: number;
  /** Pace of the tokens after the first. */
  tokensPerSecond: number;
  /** Number of tokens of the default answer (before `max_tokens` capping). */
  answerTokens: number;
  /** Tokens to answer with, instead of the default hash-derived words. */
  answer?: (request: ChatRequestBody) => string[];
  /** A bearer key that gets a 401, like a revoked key would; any other non-empty key is accepted. */
  rejectKey?: string;
  /** Decides a request's answer (before queued turns); undefined: the usual answer. */
  turn?: (request: ChatRequestBody) => ScriptedTurn | undefined;
}

/**
 * - streaming: in progress (streaming or not, i.e. the stub has not finished answering);
 * - completed: the full answer was sent;
 * - aborted: the client closed the connection before the stub finished;
 * - failed: the stub answered with an error, cut the stream (fault) or was closed mid-answer.
 */
export type RequestStatus = 'streaming' | 'completed' | 'aborted' | 'failed';

export interface RecordedRequest {
  /** 1, 2, 3... over the stub's lifetime (not restarted by `reset`). */
  id: number;
  body: ChatRequestBody;
  headers: IncomingHttpHeaders;
  /** Date.now() when the body had been read. */
  receivedAt: number;
  /** Content tokens sent (streaming) or generated into the answer (non-streaming). */
  tokensSent: number;
  status: RequestStatus;
  /** The fault this request consumed, if any. */
  fault?: Fault;
  /** HTTP status the stub answered with, once it has. */
  httpStatus?: number;
  /** Date.now() when the first content token was produced. */
  firstTokenAt?: number;
  /** Date.now() when the request left the 'streaming' status. */
  finishedAt?: number;
  /** Why a request failed, for assertion messages. */
  failure?: string;
}

export type StubEvent = 'request' | 'first-token' | 'completed' | 'aborted' | 'failed';

type StubEvents = { [E in StubEvent]: [RecordedRequest] };

export const DEFAULT_STUB_OPTIONS: Readonly<StubOptions> = Object.freeze({
  ttftMs: 20,
  tokensPerSecond: 200,
  answerTokens: 30,
});

/** Whether a record has already reached the state an event announces (waitFor needs no race). */
const REACHED: Record<StubEvent, (record: RecordedRequest) => boolean> = {
  request: () => true,
  'first-token': (record) => record.firstTokenAt !== undefined,
  completed: (record) => record.status === 'completed',
  aborted: (record) => record.status === 'aborted',
  failed: (record) => record.status === 'failed',
};

export class GroqStub extends EventEmitter<StubEvents> {
  /** Every request to the completions endpoint, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  readonly baseURL: string;

  readonly #server: Server;
  readonly #initialOptions: StubOptions;
  #options: StubOptions;
  #faults: Fault[] = [];
  #turns: ScriptedTurn[] = [];
  #nextId = 1;
  /** Requests still being answered, with the function that stops their timers. */
  readonly #active = new Map<RecordedRequest, () => void>();

  private constructor(server: Server, options: StubOptions) {
    super();
    this.setMaxListeners(0); // a benchmark may wait on hundreds of requests at once
    this.#server = server;
    this.#initialOptions = options;
    this.#options = { ...options };
    const { port } = server.address() as AddressInfo;
    this.baseURL = `http://127.0.0.1:${port}`;
    server.on('request', (req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        console.error('GroqStub: request handler failed', error);
        res.destroy();
      });
    });
  }

  /** Listens on 127.0.0.1 on a free port. `options` become the defaults `reset()` returns to. */
  static async start(options: Partial<StubOptions> = {}): Promise<GroqStub> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new GroqStub(server, { ...DEFAULT_STUB_OPTIONS, ...options });
  }

  /** Changes behaviour for requests arriving from now on; in-flight ones keep their settings. */
  configure(options: Partial<StubOptions>): this {
    Object.assign(this.#options, options);
    return this;
  }

  get options(): Readonly<StubOptions> {
    return { ...this.#options };
  }

  enqueueFaults(...faults: Fault[]): this {
    this.#faults.push(...faults);
    return this;
  }

  /** Scripts the next streamed answers, one per request, in order (after `turn`, before the default). */
  enqueueTurns(...turns: ScriptedTurn[]): this {
    this.#turns.push(...turns);
    return this;
  }

  /** Clears recorded requests, queued faults and turns, and restores the options given to `start`. */
  reset(): void {
    this.requests.length = 0;
    this.#faults = [];
    this.#turns = [];
    this.#options = { ...this.#initialOptions };
  }

  /**
   * Resolves with the first recorded request, past or future, that has reached the state `event`
   * announces and matches `predicate`. Looking at past requests too means a test can call this
   * after triggering the event without racing it.
   */
  waitFor(
    event: StubEvent,
    predicate: (record: RecordedRequest) => boolean = () => true,
  ): Promise<RecordedRequest> {
    const matches = (record: RecordedRequest) => REACHED[event](record) && predicate(record);
    const past = this.requests.find(matches);
    if (past) return Promise.resolve(past);
    return new Promise((resolve) => {
      const listener = (record: RecordedRequest) => {
        if (!matches(record)) return;
        this.off(event, listener);
        resolve(record);
      };
      this.on(event, listener);
    });
  }

  /** Resolves with a copy of `requests` once at least `count` have arrived. */
  waitForRequests(count: number): Promise<RecordedRequest[]> {
    if (this.requests.length >= count) return Promise.resolve([...this.requests]);
    return new Promise((resolve) => {
      const listener = () => {
        if (this.requests.length < count) return;
        this.off('request', listener);
        resolve([...this.requests]);
      };
      this.on('request', listener);
    });
  }

  /** Cuts every open answer (recorded as 'failed'), drops all connections and stops listening. */
  async close(): Promise<void> {
    for (const record of [...this.#active.keys()]) this.#fail(record, 'stub closed');
    const closed = new Promise<void>((resolve, reject) =>
      this.#server.close((error) => (error ? reject(error) : resolve())),
    );
    this.#server.closeAllConnections();
    await closed;
  }

  // ---- request handling ----

  /** How many times the models list was asked for (what health checks call). */
  modelListRequests = 0;

  /** GET /openai/v1/models: Groq's model list, or 401 for a missing or rejected key. */
  #answerModels(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    this.modelListRequests += 1;
    const key = bearerKey(req.headers.authorization);
    if (!key || key === this.#options.rejectKey) {
      sendJson(res, 401, groqError('Invalid API Key', 'invalid_request_error', 'invalid_api_key'));
      return;
    }
    const created = Math.floor(Date.now() / 1000);
    sendJson(res, 200, {
      object: 'list',
      data: ['llama-3.1-8b-instant', 'llama-3.3-70b-versatile'].map((id) => ({
        id,
        object: 'model',
        created,
        owned_by: 'Meta',
        active: true,
      })),
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.baseURL).pathname;
    if (req.method === 'GET' && path === MODELS_PATH) {
      this.#answerModels(req, res);
      return;
    }
    if (req.method !== 'POST' || path !== COMPLETIONS_PATH) {
      req.resume();
      sendJson(
        res,
        404,
        groqError(`Unknown request URL: ${req.method} ${path}`, 'invalid_request_error', 'unknown_url'),
      );
      return;
    }
    const raw = await readBody(req).catch(() => undefined);
    if (raw === undefined) return; // the client went away while sending the body
    const body = parseBody(raw);
    const record = this.#record(req, body ?? { model: '', messages: [] });
    res.setHeader('x-request-id', requestId(record));
    res.on('close', () => this.#onClose(record));

    const key = bearerKey(req.headers.authorization);
    if (!key || key === this.#options.rejectKey) {
      this.#sendError(
        record,
        res,
        401,
        groqError('Invalid API Key', 'invalid_request_error', 'invalid_api_key'),
      );
      return;
    }
    if (!body) {
      const error = groqError(
        'Request body must be a JSON object with messages',
        'invalid_request_error',
        null,
      );
      this.#sendError(record, res, 400, error);
      return;
    }
    // Only well-formed, authorised requests consume faults, so a fault lands where the test aims it.
    const fault = this.#faults.shift();
    if (fault) record.fault = fault;
    this.#answer(record, res, fault);
  }

  #record(req: IncomingMessage, body: ChatRequestBody): RecordedRequest {
    const record: RecordedRequest = {
      id: this.#nextId++,
      body,
      headers: req.headers,
      receivedAt: Date.now(),
      tokensSent: 0,
      status: 'streaming',
    };
    this.requests.push(record);
    this.#active.set(record, () => {});
    this.emit('request', record);
    return record;
  }

  #answer(record: RecordedRequest, res: ServerResponse, fault: Fault | undefined): void {
    switch (fault?.kind) {
      case 'rate_limit': {
        const seconds = fault.retryAfterSeconds;
        const message = `Rate limit reached for model \`${record.body.model}\`. Please try again in ${seconds}s.`;
        const error = groqError(message, 'rate_limit_exceeded', 'rate_limit_exceeded');
        this.#sendError(record, res, 429, error, { 'retry-after': String(seconds) });
        return;
      }
      case 'server_error': {
        const status = fault.status ?? 500;
        const type = status === 503 ? 'service_unavailable' : 'internal_server_error';
        this.#sendError(record, res, status, groqError('Internal Server Error', type, type));
        return;
      }
      case 'tool_use_failed': {
        const error = {
          error: {
            ...groqError(
              "Failed to call a function. Please adjust your prompt. See 'failed_generation' for more details.",
              'invalid_request_error',
              'tool_use_failed',
            ).error,
            failed_generation: '<function=search_documents{"query": "unterminated',
          },
        };
        this.#sendError(record, res, 400, error);
        return;
      }
      case 'hang':
        return; // stays active: 'aborted' when the client gives up, 'failed' when the stub closes
      default:
        this.#generate(record, res, fault?.kind === 'cut' ? fault.afterTokens : undefined);
    }
  }

  /** Produces the answer token by token, streamed as SSE or collected into one JSON completion. */
  #generate(record: RecordedRequest, res: ServerResponse, cutAfter: number | undefined): void {
    const options = { ...this.#options }; // settings are fixed for the life of this request
    const scripted =
      options.turn?.(record.body) ?? (streamingRequest(record.body) ? this.#turns.shift() : undefined);
    const planned = scripted
      ? planTurn(record, scripted)
      : { ...planAnswer(record.body, options), tools: [] };
    const { tokens, tools } = planned;
    const finishReason: FinishReason = planned.finishReason;
    const streaming = record.body.stream === true;
    const meta = completionMeta(record);
    const startedAt = performance.now();
    let firstTokenMs = options.ttftMs;

    if (streaming) {
      record.httpStatus = 200;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders(); // groq-sdk's create() resolves on headers, before any token
    }
    // The role chunk opens the stream together with the first token, as Groq's does.
    const openStream = () => {
      if (!streaming || record.tokensSent > 0) return;
      writeEvent(res, chunk(meta, { role: 'assistant', content: '' }, null, { id: meta.requestId }));
    };
    // end() flushes what this tick wrote (http corks the socket until the next tick) before dropping
    // the connection; the chunked body never terminates, so the client sees a broken stream.
    const cut = () => {
      this.#fail(record, `cut after ${record.tokensSent} tokens`);
      const socket = res.socket;
      socket?.end(() => socket.destroy());
    };
    const usageNow = () =>
      usage(record, firstTokenMs, performance.now() - startedAt - firstTokenMs, promptTokens(record.body));

    const emit = (index: number): boolean => {
      openStream();
      if (index >= tokens.length) {
        // A fragment of a tool call (the text tokens come first).
        if (streaming) writeEvent(res, chunk(meta, { tool_calls: [tools[index - tokens.length]!] }, null));
        if (index === 0) {
          record.firstTokenAt = Date.now();
          this.emit('first-token', record);
        }
        return true;
      }
      const token = tokens[index] ?? '';
      record.tokensSent++;
      if (streaming) writeEvent(res, chunk(meta, { content: token }, null));
      if (index === 0) {
        firstTokenMs = performance.now() - startedAt;
        record.firstTokenAt = Date.now();
        this.emit('first-token', record);
      }
      if (cutAfter !== undefined && record.tokensSent >= cutAfter) {
        cut();
        return false;
      }
      return true;
    };
    const done = () => {
      if (cutAfter !== undefined) {
        // The answer ran out before `afterTokens` (or it is 0): still never finish cleanly.
        openStream();
        cut();
        return;
      }
      this.#markCompleted(record);
      if (streaming) {
        writeEvent(res, chunk(meta, {}, finishReason, { id: meta.requestId, usage: usageNow() }));
        res.end('data: [DONE]\n\n');
      } else {
        record.httpStatus = 200;
        sendJson(res, 200, completion(meta, tokens.join(''), finishReason, usageNow()));
      }
    };
    this.#active.set(
      record,
      paceTokens(tokens.length + tools.length, options.ttftMs, options.tokensPerSecond, emit, done),
    );
  }

  #sendError(
    record: RecordedRequest,
    res: ServerResponse,
    status: number,
    error: GroqErrorBody,
    headers: Record<string, string> = {},
  ): void {
    record.httpStatus = status;
    this.#fail(record, `${status} ${error.error.code ?? error.error.type}`);
    sendJson(res, status, error, headers);
  }

  #markCompleted(record: RecordedRequest): void {
    this.#leave(record, 'completed');
    this.emit('completed', record);
  }

  #fail(record: RecordedRequest, failure: string): void {
    if (record.status !== 'streaming') return;
    record.failure = failure;
    this.#leave(record, 'failed');
    this.emit('failed', record);
  }

  /** The connection closed: if the stub had not finished, the client aborted. */
  #onClose(record: RecordedRequest): void {
    if (record.status !== 'streaming') return;
    this.#leave(record, 'aborted');
    this.emit('aborted', record);
  }

  #leave(record: RecordedRequest, status: RequestStatus): void {
    this.#active.get(record)?.();
    this.#active.delete(record);
    record.status = status;
    record.finishedAt = Date.now();
  }
}

/**
 * Calls `emit(k)` for each token k at start + ttftMs + k * 1000 / tokensPerSecond, then `done()`.
 * Due times are fixed from the start and each tick emits every token already due, so timer
 * granularity and event-loop lag delay tokens a little but never lower the average rate.
 * `emit` returns false to stop. Returns a function that cancels the pending timer.
 */
function paceTokens(
  count: number,
  ttftMs: number,
  tokensPerSecond: number,
  emit: (index: number) => boolean,
  done: () => void,
): () => void {
  const start = performance.now();
  const interval = tokensPerSecond > 0 ? 1000 / tokensPerSecond : 0;
  const dueAt = (index: number) => start + ttftMs + index * interval;
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const now = performance.now();
    while (next < count && dueAt(next) <= now) {
      if (!emit(next++)) return;
    }
    if (next >= count) {
      done();
      return;
    }
    timer = setTimeout(tick, Math.max(0, dueAt(next) - performance.now()));
  };
  timer = setTimeout(tick, Math.max(0, ttftMs));
  return () => clearTimeout(timer);
}

// ---- answer content ----

/** Ascii words alternate with multi-byte ones so byte-for-byte relay checks are meaningful. */
const ASCII_WORDS = [
  'the',
  'quick',
  'stream',
  'token',
  'answer',
  'relay',
  'queue',
  'worker',
  'socket',
  'chunk',
];
const MULTIBYTE_WORDS = [
  'café',
  'straße',
  '漢字',
  '🙂',
  'naïve',
  'über',
  '日本語',
  'façade',
  'Ωmega',
  '👍🏽',
];

/** Deterministic tokens derived from a hash of the last user message, each a word with a leading space. */
export function defaultTokens(body: ChatRequestBody, count: number): string[] {
  const seed = createHash('sha256').update(lastUserText(body)).digest();
  return Array.from({ length: Math.max(0, count) }, (_, index) => {
    const words = index % 2 === 0 ? MULTIBYTE_WORDS : ASCII_WORDS;
    const pick = (seed[index % seed.length]! + Math.floor(index / seed.length) * 7) % words.length;
    return ` ${words[pick]}`;
  });
}

/** The tokens to send and why they stop: `max_completion_tokens` / `max_tokens` cut with 'length'. */
function planAnswer(
  body: ChatRequestBody,
  options: StubOptions,
): { tokens: string[]; finishReason: 'stop' | 'length' } {
  return capped(body, options.answer ? options.answer(body) : defaultTokens(body, options.answerTokens));
}

/** How a streamed answer ends. */
type FinishReason = 'stop' | 'length' | 'tool_calls';

/** One tool-call fragment of `delta.tool_calls`, as Groq streams it. */
interface ToolCallFragment {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

/**
 * A scripted turn as stream frames: its text tokens, then per call a head fragment (index, id,
 * type, name, no arguments yet) and its arguments split in three fragments.
 */
function planTurn(
  record: RecordedRequest,
  turn: ScriptedTurn,
): { tokens: string[]; tools: ToolCallFragment[]; finishReason: FinishReason } {
  const calls = turn.toolCalls ?? [];
  const tools = calls.flatMap((call, index): ToolCallFragment[] => {
    const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
    const third = Math.ceil(args.length / 3);
    const pieces = [args.slice(0, third), args.slice(third, 2 * third), args.slice(2 * third)].filter(
      Boolean,
    );
    return [
      {
        index,
        id: call.id ?? `call_stub_${record.id}_${index}`,
        type: 'function',
        function: { name: call.name, arguments: '' },
      },
      ...pieces.map((piece) => ({ index, function: { arguments: piece } })),
    ];
  });
  if (calls.length > 0) return { tokens: turn.text ?? [], tools, finishReason: 'tool_calls' };
  return { ...capped(record.body, turn.text ?? []), tools: [] };
}

const streamingRequest = (body: ChatRequestBody) => body.stream === true;

function capped(
  body: ChatRequestBody,
  full: string[],
): { tokens: string[]; finishReason: 'stop' | 'length' } {
  const cap = body.max_completion_tokens ?? body.max_tokens;
  if (typeof cap === 'number' && cap < full.length) {
    return { tokens: full.slice(0, Math.max(0, cap)), finishReason: 'length' };
  }
  return { tokens: full, finishReason: 'stop' };
}

function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
  }
  return content == null ? '' : JSON.stringify(content);
}

function lastUserText(body: ChatRequestBody): string {
  const user = body.messages.findLast((message) => message.role === 'user');
  return user ? messageText(user) : '';
}

/** A rough but deterministic count: about four characters per token. */
function promptTokens(body: ChatRequestBody): number {
  const characters = body.messages.reduce((sum, message) => sum + messageText(message).length, 0);
  return Math.ceil(characters / 4);
}

// ---- wire format ----

interface CompletionMeta {
  id: string;
  requestId: string;
  created: number;
  model: string;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  queue_time: number;
  prompt_time: number;
  completion_time: number;
  total_time: number;
}

interface GroqErrorBody {
  error: { message: string; type: string; code: string | null; failed_generation?: string };
}

function requestId(record: RecordedRequest): string {
  return `req_stub_${record.id}`;
}

function completionMeta(record: RecordedRequest): CompletionMeta {
  return {
    id: `chatcmpl-stub-${record.id}`,
    requestId: requestId(record),
    created: Math.floor(record.receivedAt / 1000),
    model: record.body.model,
  };
}

function usage(record: RecordedRequest, promptMs: number, completionMs: number, prompt: number): Usage {
  const promptTime = promptMs / 1000;
  const completionTime = Math.max(0, completionMs) / 1000;
  return {
    prompt_tokens: prompt,
    completion_tokens: record.tokensSent,
    total_tokens: prompt + record.tokensSent,
    queue_time: 0.001,
    prompt_time: promptTime,
    completion_time: completionTime,
    total_time: promptTime + completionTime,
  };
}

function chunk(
  meta: CompletionMeta,
  delta: { role?: 'assistant'; content?: string; tool_calls?: ToolCallFragment[] },
  finishReason: FinishReason | null,
  xGroq?: { id: string; usage?: Usage },
) {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(xGroq ? { x_groq: xGroq } : {}),
  };
}

function completion(meta: CompletionMeta, content: string, finishReason: FinishReason, usage: Usage) {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [
      { index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: finishReason },
    ],
    usage,
    x_groq: { id: meta.requestId },
  };
}

function groqError(message: string, type: string, code: string | null): GroqErrorBody {
  return { error: { message, type, code } };
}

/** One SSE frame, as groq-sdk's decoder splits them: `data: <json>` and a blank line. */
function writeEvent(res: ServerResponse, data: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function bearerKey(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

function parseBody(raw: string): ChatRequestBody | undefined {
  try {
    const body: unknown = JSON.parse(raw);
    const valid =
      typeof body === 'object' && body !== null && Array.isArray((body as ChatRequestBody).messages);
    return valid ? (body as ChatRequestBody) : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
