/** What the chat pipeline needs from a language model, whoever serves it. */

export interface PromptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerationRequest {
  model: string;
  messages: PromptMessage[];
  temperature: number;
  maxTokens: number;
  signal?: AbortSignal;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface GenerationResult {
  model: string;
  usage: Usage | null;
  finishReason: string | null;
  /** True when the signal stopped the stream (the text so far is all there is). */
  aborted: boolean;
}

export interface LlmProvider {
  readonly name: 'groq' | 'offline';
  /** Streams the answer, calling onToken for each piece of text, in order. */
  stream(request: GenerationRequest, onToken: (delta: string) => void): Promise<GenerationResult>;
  /** A short, whole answer (titles, summaries). */
  complete(request: GenerationRequest): Promise<string>;
  /** Cheap proof that the provider answers and accepts our credentials; throws LlmError otherwise. */
  probe(signal?: AbortSignal): Promise<void>;
}

/**
 * The model could not answer. `retryable` tells the client whether trying again may help;
 * `status` is the upstream HTTP status when there was one.
 */
export class LlmError extends Error {
  readonly retryable: boolean;
  readonly status?: number;

  constructor(message: string, options: { retryable: boolean; status?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'LlmError';
    this.retryable = options.retryable;
    this.status = options.status;
  }
}
