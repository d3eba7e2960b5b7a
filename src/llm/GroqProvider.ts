import Groq, { APIConnectionError, APIError, APIUserAbortError } from 'groq-sdk';
import { ToolCallAssembler, wireMessages, wireTools } from './chatCompletionsWire.ts';
import type { GenerationRequest, GenerationResult, LlmProvider } from './LlmProvider.ts';
import { LlmError } from './LlmProvider.ts';
import { readSseEvents } from './sseEvents.ts';
import { llmErrorForStatus, unreachableError } from './upstreamErrors.ts';

type StreamChunk = Groq.Chat.Completions.ChatCompletionChunk;

/**
 * Groq through its own SDK. Built with retries (`maxRetries` > 0: the last model of a fallback
 * chain, see FallbackChain), the SDK retries 429 (honouring retry-after), 5xx and connection
 * errors with backoff before any token arrives; once tokens flow, a failure is final here.
 * `baseURL` falls back to GROQ_BASE_URL inside the SDK, so any compatible endpoint works.
 */
export class GroqProvider implements LlmProvider {
  readonly name = 'groq' as const;
  private readonly client: Groq;

  constructor(options: { apiKey: string; baseURL?: string; timeoutMs: number; maxRetries: number }) {
    this.client = new Groq({
      apiKey: options.apiKey,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
    });
  }

  async stream(request: GenerationRequest, onToken: (delta: string) => void): Promise<GenerationResult> {
    let usage: GenerationResult['usage'] = null;
    let finishReason: string | null = null;
    let model = request.model;
    const toolCalls = new ToolCallAssembler();
    const ended = (aborted: boolean): GenerationResult => ({
      model,
      usage,
      finishReason,
      aborted,
      toolCalls: toolCalls.result,
    });
    try {
      // The SDK makes the request (retries, errors before the first byte); the events are read
      // here (src/llm/sseEvents.ts): the SDK's stream parser was most of the per-token CPU.
      const response = await this.client.chat.completions
        .create({ ...completionParams(request), stream: true }, { signal: request.signal })
        .asResponse();
      if (!response.body) throw new LlmError('The model service sent no stream.', { retryable: true });
      await readSseEvents(response.body, (event, data) => {
        if (data.startsWith('[DONE]')) return false;
        if (event?.startsWith('thread.')) return true; // as the SDK: not a completion chunk
        const chunk = JSON.parse(data) as StreamChunk & { error?: object };
        if (chunk.error) throw new APIError(undefined, chunk.error, undefined, response.headers);
        model = chunk.model ?? model;
        const choice = chunk.choices?.[0];
        if (choice?.delta?.content) onToken(choice.delta.content);
        toolCalls.add(choice?.delta?.tool_calls);
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        // Groq reports streaming usage on the last chunk, under x_groq.
        const reported = chunk.x_groq?.usage;
        if (reported)
          usage = { promptTokens: reported.prompt_tokens, completionTokens: reported.completion_tokens };
        return true;
      });
    } catch (error) {
      if (error instanceof APIUserAbortError || request.signal?.aborted) {
        return ended(true);
      }
      // As with the SDK's stream: an abort we did not ask for ends the stream (checked below).
      if (!(error instanceof Error && error.name === 'AbortError')) throw toLlmError(error);
    }
    // An abort mid-stream ends the loop silently: the signal says whether the answer is whole.
    if (request.signal?.aborted) return ended(true);
    if (!finishReason)
      throw new LlmError('The model stream ended before the answer was complete.', { retryable: true });
    return ended(false);
  }

  /** Lists the models: needs a valid key and a reachable API, costs no tokens. */
  async probe(signal?: AbortSignal): Promise<void> {
    try {
      await this.client.models.list({ signal, maxRetries: 0, timeout: 5_000 });
    } catch (error) {
      throw toLlmError(error);
    }
  }

  async complete(request: GenerationRequest): Promise<string> {
    try {
      const completion = await this.client.chat.completions.create(completionParams(request), {
        signal: request.signal,
      });
      return completion.choices[0]?.message?.content ?? '';
    } catch (error) {
      throw toLlmError(error);
    }
  }
}

const completionParams = (request: GenerationRequest) => ({
  model: request.model,
  messages: wireMessages(request.messages) as Groq.Chat.Completions.ChatCompletionMessageParam[],
  tools: wireTools(request.tools),
  temperature: request.temperature,
  max_completion_tokens: request.maxTokens,
});

/** SDK errors reduced to what the pipeline decides on (upstreamErrors.ts); the message never carries the key. */
function toLlmError(error: unknown): LlmError {
  if (error instanceof LlmError) return error;
  if (error instanceof APIConnectionError) return unreachableError(error);
  if (error instanceof APIError) return llmErrorForStatus(error.status, error);
  return new LlmError('The model stream failed.', { retryable: true, cause: error });
}
