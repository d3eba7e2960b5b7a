/** What the chat pipeline needs from a language model, whoever serves it. */

/** A function the model may ask for: its name, what it does, and its arguments as JSON Schema. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** A call the model asked for; `arguments` is the JSON text exactly as the model wrote it. */
export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: string;
}

export type PromptMessage =
  | { role: 'system' | 'user'; content: string }
  /** `toolCalls` when this turn of the model asked for tools instead of (or besides) answering. */
  | { role: 'assistant'; content: string; toolCalls?: ToolCallRequest[] }
  /** A tool's result, answering the call with the same id. */
  | { role: 'tool'; toolCallId: string; content: string };

export interface GenerationRequest {
  model: string;
  messages: PromptMessage[];
  temperature: number;
  maxTokens: number;
  /** Offered to the model; absent or empty: a plain answer. */
  tools?: ToolSpec[];
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
  /** The tools the model asked for, whole (finish reason `tool_calls`); empty otherwise. */
  toolCalls: ToolCallRequest[];
}

export interface LlmProvider {
  readonly name: 'groq' | 'offline' | 'openai-compatible' | 'websocket';
  /**
   * Set by the offline stand-in only (no model configured): what it writes is a placeholder, so
   * callers that want real text (titles) don't ask it.
   */
  readonly offline?: true;
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
  /**
   * `tool_use_failed`: the model wrote a tool call the service could not parse (Groq answers 400
   * before streaming); asking again, or without tools, usually works.
   */
  readonly code?: 'tool_use_failed';

  constructor(
    message: string,
    options: { retryable: boolean; status?: number; code?: 'tool_use_failed'; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = 'LlmError';
    this.retryable = options.retryable;
    this.status = options.status;
    this.code = options.code;
  }
}
