import { randomUUID } from 'node:crypto';
import { type GenerationRequest, type GenerationResult, LlmError, type LlmProvider } from './LlmProvider.ts';
import type { Frame, WebSocketConnection } from './WebSocketConnection.ts';

/** The answer fields a server may name differently (`fieldMap`: ours → theirs). */
export const WEBSOCKET_FIELDS = ['response', 'delta', 'tokens_used', 'model', 'finish_reason'] as const;
export type FieldMap = Partial<Record<(typeof WEBSOCKET_FIELDS)[number], string>>;

export interface WebSocketProviderOptions {
  connection: WebSocketConnection;
  /** Per request, sending to the final frame. */
  timeoutMs: number;
  fieldMap?: FieldMap | null;
}

/**
 * A custom model service behind a persistent WebSocket ("your own LLM service"). Why a provider
 * of its own: the protocol is not OpenAI's. Each request is one frame
 * `{message, model, metadata: {requestId, messages}, settings: {max_tokens, temperature, stream}}`
 * (`message` the last user message, `metadata.messages` the whole prompt as role/content pairs);
 * the server answers with zero or more `{delta}` frames and one final
 * `{response, tokens_used, model, finish_reason, metadata}`, each echoing `metadata.requestId`,
 * so answers share the connection (WebSocketConnection). Deltas stream as tokens; a server that
 * sends only the final frame yields its `response` as one token. No tools: such models are
 * registered with supportsTools false. Failures before the first frame (down, refused, timeout)
 * are retryable, so a fallback model takes over; a drop after deltas ends the answer failed.
 */
export class WebSocketProvider implements LlmProvider {
  readonly name = 'websocket' as const;
  private readonly connection: WebSocketConnection;
  private readonly timeoutMs: number;
  private readonly field: (name: (typeof WEBSOCKET_FIELDS)[number]) => string;

  constructor(options: WebSocketProviderOptions) {
    this.connection = options.connection;
    this.timeoutMs = options.timeoutMs;
    const fieldMap = options.fieldMap ?? {};
    this.field = (name) => fieldMap[name] ?? name;
  }

  async stream(request: GenerationRequest, onToken: (delta: string) => void): Promise<GenerationResult> {
    const aborted = (): GenerationResult => ({
      model: request.model,
      usage: null,
      finishReason: null,
      aborted: true,
      toolCalls: [],
    });
    const { signal } = request;
    if (signal?.aborted) return aborted();
    const requestId = randomUUID();
    let release: (() => void) | null = null;
    let settle: ((outcome: { result?: GenerationResult; error?: LlmError }) => void) | null = null;
    let done = false;
    const outcome = new Promise<{ result?: GenerationResult; error?: LlmError }>((resolve) => {
      settle = (ended) => {
        done = true;
        resolve(ended);
      };
    });
    let streamed = false;
    let framed = false;
    const onFrame = (frame: Frame) => {
      if (done) return;
      framed = true;
      if (frame.error !== undefined)
        return settle!({ error: new LlmError('The model service failed.', { retryable: true }) });
      const delta = frame[this.field('delta')];
      const response = frame[this.field('response')];
      if (typeof delta === 'string' && delta && response === undefined) {
        streamed = true;
        onToken(delta);
        return;
      }
      if (typeof response !== 'string') return;
      if (!streamed && response) onToken(response);
      const tokensUsed = frame[this.field('tokens_used')];
      const model = frame[this.field('model')];
      const finishReason = frame[this.field('finish_reason')];
      settle!({
        result: {
          model: typeof model === 'string' && model ? model : request.model,
          usage: typeof tokensUsed === 'number' ? { promptTokens: 0, completionTokens: tokensUsed } : null,
          finishReason: typeof finishReason === 'string' ? finishReason : 'stop',
          aborted: false,
          toolCalls: [],
        },
      });
    };
    const onClosed = () =>
      settle!({
        error: new LlmError(
          framed
            ? 'The model service closed the connection mid-answer.'
            : 'The model service could not be reached.',
          { retryable: true },
        ),
      });
    const onAbort = () => settle!({ result: aborted() });
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () =>
        settle!({
          error: new LlmError(
            framed
              ? 'The model stream stopped before the answer was complete.'
              : 'The model service did not answer in time.',
            { retryable: true },
          ),
        }),
      this.timeoutMs,
    );
    try {
      release = await this.connection.send(
        requestId,
        this.frame(request, requestId),
        { onFrame, onClosed },
        signal,
      );
    } catch (error) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return aborted();
      throw error;
    }
    try {
      const ended = await outcome;
      if (ended.error) throw ended.error;
      return ended.result!;
    } finally {
      // Frames arriving later for this request (after an abort or a timeout) are ignored.
      release?.();
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async complete(request: GenerationRequest): Promise<string> {
    let text = '';
    await this.stream(request, (delta) => {
      text += delta;
    });
    return text;
  }

  /** The socket opens (with the key) and answers a ping: costs no tokens. */
  probe(signal?: AbortSignal): Promise<void> {
    return this.connection.ping(signal);
  }

  private frame(request: GenerationRequest, requestId: string): Frame {
    const messages = request.messages.map((message) => ({ role: message.role, content: message.content }));
    const lastUser = request.messages.findLast((message) => message.role === 'user');
    return {
      message: lastUser?.content ?? '',
      model: request.model,
      metadata: { requestId, messages },
      settings: { max_tokens: request.maxTokens, temperature: request.temperature, stream: true },
    };
  }
}
