import { ToolCallAssembler, type ToolCallDelta } from './chatCompletionsWire.ts';
import { type GenerationResult, LlmError, type Usage } from './LlmProvider.ts';

/** What both SDKs' streamed chunks carry that an answer needs (choices[0] only). */
export interface CompletionChunk {
  model?: string | null;
  choices?: Array<{
    delta?: { content?: string | null; tool_calls?: ToolCallDelta[] };
    finish_reason?: string | null;
  }>;
}

/**
 * One streamed chat completion read chunk by chunk into a GenerationResult: text to `onToken`,
 * tool-call fragments to whole calls, the model that answered, the finish reason and usage. Both
 * providers read the same chunks (only where usage arrives differs by service, so the provider
 * reports it), and decide alike at the end: an abort keeps what came, a stream that stopped
 * without a finish reason is an incomplete answer (retryable).
 */
export class CompletionStream {
  private model: string;
  private readonly onToken: (delta: string) => void;
  private readonly toolCalls = new ToolCallAssembler();
  private finishReason: string | null = null;
  private usage: Usage | null = null;

  constructor(requestedModel: string, onToken: (delta: string) => void) {
    this.model = requestedModel;
    this.onToken = onToken;
  }

  add(chunk: CompletionChunk): void {
    this.model = chunk.model || this.model;
    const choice = chunk.choices?.[0];
    if (choice?.delta?.content) this.onToken(choice.delta.content);
    this.toolCalls.add(choice?.delta?.tool_calls);
    if (choice?.finish_reason) this.finishReason = choice.finish_reason;
  }

  /** Usage as the service reported it (snake_case, as on the wire). */
  reportUsage(reported: { prompt_tokens: number; completion_tokens: number } | null | undefined): void {
    if (reported)
      this.usage = { promptTokens: reported.prompt_tokens, completionTokens: reported.completion_tokens };
  }

  /** The signal stopped the stream: the text so far is all there is. */
  aborted(): GenerationResult {
    return this.result(true);
  }

  /** The stream ended: whole, stopped by the signal, or cut short (thrown, retryable). */
  ended(signal: AbortSignal | undefined): GenerationResult {
    // An abort mid-stream may end the reading silently: the signal says whether the answer is whole.
    if (signal?.aborted) return this.result(true);
    if (!this.finishReason)
      throw new LlmError('The model stream ended before the answer was complete.', { retryable: true });
    return this.result(false);
  }

  private result(aborted: boolean): GenerationResult {
    return {
      model: this.model,
      usage: this.usage,
      finishReason: this.finishReason,
      aborted,
      toolCalls: this.toolCalls.result,
    };
  }
}
