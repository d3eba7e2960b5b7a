import Groq, { APIConnectionError, APIError, APIUserAbortError } from 'groq-sdk';
import { CompletionStream } from './CompletionStream.ts';
import { completionParams } from './chatCompletionsWire.ts';
import type { GenerationRequest, GenerationResult, LlmProvider } from './LlmProvider.ts';
import { LlmError } from './LlmProvider.ts';
import { completeOnce, probeModels } from './sdkCalls.ts';
import { readSseEvents } from './sseEvents.ts';
import { sdkLlmError } from './upstreamErrors.ts';

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
    const answer = new CompletionStream(request.model, onToken);
    try {
      // The SDK makes the request (retries, errors before the first byte); the events are read
      // here (src/llm/sseEvents.ts): the SDK's stream parser was most of the per-token CPU.
      const response = await this.client.chat.completions
        .create({ ...params(request), stream: true }, { signal: request.signal })
        .asResponse();
      if (!response.body) throw new LlmError('The model service sent no stream.', { retryable: true });
      await readSseEvents(response.body, (event, data) => {
        if (data.startsWith('[DONE]')) return false;
        if (event?.startsWith('thread.')) return true; // as the SDK: not a completion chunk
        const chunk = JSON.parse(data) as StreamChunk & { error?: object };
        if (chunk.error) throw new APIError(undefined, chunk.error, undefined, response.headers);
        answer.add(chunk);
        // Groq reports streaming usage on the last chunk, under x_groq.
        answer.reportUsage(chunk.x_groq?.usage);
        return true;
      });
    } catch (error) {
      if (error instanceof APIUserAbortError || request.signal?.aborted) return answer.aborted();
      // As with the SDK's stream: an abort we did not ask for ends the stream (checked below).
      if (!(error instanceof Error && error.name === 'AbortError')) throw toLlmError(error);
    }
    return answer.ended(request.signal);
  }

  /** Lists the models: needs a valid key and a reachable API, costs no tokens. */
  probe(signal?: AbortSignal): Promise<void> {
    return probeModels(this.client, signal, toLlmError);
  }

  complete(request: GenerationRequest): Promise<string> {
    return completeOnce(this.client, params(request), request.signal, toLlmError);
  }
}

const params = (request: GenerationRequest) => completionParams(request, 'max_completion_tokens');

const toLlmError = (error: unknown) => sdkLlmError(error, { APIConnectionError, APIError });
