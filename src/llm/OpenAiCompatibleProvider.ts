import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { ToolCallAssembler, wireMessages, wireTools } from './chatCompletionsWire.ts';
import type { GenerationRequest, GenerationResult, LlmProvider } from './LlmProvider.ts';
import { LlmError } from './LlmProvider.ts';
import { llmErrorForStatus, unreachableError } from './upstreamErrors.ts';

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
 * chatCompletionsWire's, shared with GroqProvider; usage comes from the last chunk
 * (`stream_options.include_usage`). The key lives only inside the client: errors are our own
 * LlmError messages, never the SDK's.
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
      const stream = await this.client.chat.completions.create(
        { ...completionParams(request), stream: true, stream_options: { include_usage: true } },
        { signal: request.signal },
      );
      for await (const chunk of stream) {
        model = chunk.model || model;
        const choice = chunk.choices?.[0];
        if (choice?.delta?.content) onToken(choice.delta.content);
        toolCalls.add(choice?.delta?.tool_calls);
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (chunk.usage)
          usage = {
            promptTokens: chunk.usage.prompt_tokens,
            completionTokens: chunk.usage.completion_tokens,
          };
      }
    } catch (error) {
      if (error instanceof APIUserAbortError || request.signal?.aborted) return ended(true);
      throw toLlmError(error);
    }
    if (request.signal?.aborted) return ended(true);
    if (!finishReason)
      throw new LlmError('The model stream ended before the answer was complete.', { retryable: true });
    return ended(false);
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

  /** Lists the models: proves the endpoint answers and takes the key, costs no tokens. */
  async probe(signal?: AbortSignal): Promise<void> {
    try {
      await this.client.models.list({ signal, maxRetries: 0, timeout: 5_000 });
    } catch (error) {
      throw toLlmError(error);
    }
  }
}

const completionParams = (request: GenerationRequest) => ({
  model: request.model,
  messages: wireMessages(request.messages) as OpenAI.Chat.Completions.ChatCompletionMessageParam[],
  tools: wireTools(request.tools),
  temperature: request.temperature,
  // `max_tokens`, not `max_completion_tokens`: the one every compatible server understands.
  max_tokens: request.maxTokens,
});

function toLlmError(error: unknown): LlmError {
  if (error instanceof LlmError) return error;
  if (error instanceof APIConnectionError) return unreachableError(error);
  if (error instanceof APIError) return llmErrorForStatus(error.status, error);
  return new LlmError('The model stream failed.', { retryable: true, cause: error });
}
