/**
 * What the rest of the code uses to turn text into vectors. The implementation (EmbedderPool) runs the
 * model in worker threads, so callers never block the event loop.
 */
export interface Embedder {
  readonly model: string;
  /** Unit-length vectors, one per text, in order; batches of config batchSize internally. */
  embed(texts: string[]): Promise<number[][]>;
  /** Tokens of `text` under the model's own tokenizer, without special tokens (for chunking). */
  countTokens(text: string): number;
  /** Loads the model (idempotent) and returns the vector dimension measured by embedding a probe. */
  ready(): Promise<{ dimensions: number }>;
  close(): Promise<void>;
}
