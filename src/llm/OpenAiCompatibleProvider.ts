import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { CompletionStream } from './CompletionStream.ts';
import { completionParams } from './chatCompletionsWire.ts';
import type { GenerationRequest, GenerationResult, LlmProvider } from './LlmProvider.ts';
import { completeOnce, probeModels } from './sdkCalls.ts';
import { sdkLlmError } from './upstreamErrors.ts';

/** Sent when the endpoint needs no key (Ollama, a local vLLM): the SDK insists on one. */
const NO_KEY = 'no-key';

export interface OpenAiCompatibleOptions {
  baseURL: string;
  apiKey: string | null;
  /** Per request, first byte to last (the SDK's own timeout). */
  timeoutMs: number;
  /** The SDK's own retries before the first byte; 0 for a model with a fallback after it (see FallbackChain). */
  maxRetries: number;
}

/**
 * Any server that speaks OpenAI's chat-completions API (vLLM, Ollama, LM Studio, OpenRouter,
 * Gemini's OpenAI endpoint), through the official `openai` client. The wire shapes are
 * chatCompletionsWire's and the chunk reading CompletionStream's, both shared with GroqProvider;
 * usage comes from the last chunk (`stream_options.include_usage`). The key lives only inside the
 * client: errors are our own LlmError messages, never the SDK's.
 */
export class OpenAiCompatibleProvider implements LlmProvider {
  readonly name = 'openai-compatible' as const;
  private readonly client: OpenAI;

  constructor(options: OpenAiCompatibleOptions) {
    this.client = new OpenAI({
      apiKey: options.apiKey || NO_KEY,
      baseURL: options.baseURL,
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
    });
  }

  async stream(request: GenerationRequest, onToken: (delta: string) => void): Promise<GenerationResult> {
    const answer = new CompletionStream(request.model, onToken);
    try {
      const stream = await this.client.chat.completions.create(
        { ...params(request), stream: true, stream_options: { include_usage: true } },
        { signal: request.signal },
      );
      for await (const chunk of stream) {
        answer.add(chunk);
        answer.reportUsage(chunk.usage);
      }
    } catch (error) {
      if (error instanceof APIUserAbortError || request.signal?.aborted) return answer.aborted();
      throw toLlmError(error);
    }
    return answer.ended(request.signal);
  }

  complete(request: GenerationRequest): Promise<string> {
    return completeOnce(this.client, params(request), request.signal, toLlmError);
  }

  /** Lists the models: proves the endpoint answers and takes the key, costs no tokens. */
  probe(signal?: AbortSignal): Promise<void> {
    return probeModels(this.client, signal, toLlmError);
  }
}

// `max_tokens`, not `max_completion_tokens`: the one every compatible server understands.
const params = (request: GenerationRequest) => completionParams(request, 'max_tokens');

const toLlmError = (error: unknown) => sdkLlmError(error, { APIConnectionError, APIError });
