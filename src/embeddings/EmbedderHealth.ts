import { ConfigError } from '../config.ts';
import type { Logger } from '../logger.ts';
import { assertEmbeddingDimensions } from './dimensionCheck.ts';
import type { Embedder } from './Embedder.ts';

/** After a failed load, readiness probes try again at most this often (a load spawns threads). */
const RETRY_AFTER_MS = 60_000;

/**
 * The embedding model's state for start-up and readiness. At start-up the model is loaded and
 * its dimension checked against EMBEDDING_DIM and the schema: a mismatch stops the process
 * (stored vectors would be wrong), an unavailable model does not (the API keeps working; uploads
 * are refused with 503 + Retry-After, grounded answers end `embedder_unavailable`, and readiness
 * reports the embedder with the operator's fix until the model can be loaded).
 */
export class EmbedderHealth {
  private readonly embedder: Embedder;
  private readonly dimensions: { configured: number; schema: number };
  private lastFailure?: { at: number; message: string };
  private startingUp?: Promise<void>;

  constructor(embedder: Embedder, dimensions: { configured: number; schema: number }) {
    this.embedder = embedder;
    this.dimensions = dimensions;
  }

  /** Once per process, however many parts (edge, workers) ask. */
  startUp(logger: Logger): Promise<void> {
    this.startingUp ??= this.load(logger);
    return this.startingUp;
  }

  private async load(logger: Logger): Promise<void> {
    try {
      await this.embedder.ready();
    } catch (error) {
      this.lastFailure = { at: Date.now(), message: (error as Error).message };
      logger.error(
        { model: this.embedder.model, err: (error as Error).message },
        'embedding model not available',
      );
      return;
    }
    try {
      await assertEmbeddingDimensions(this.embedder, this.dimensions.configured, this.dimensions.schema);
    } catch (error) {
      // Stored vectors would be unusable: a settings problem the operator must fix before start.
      throw new ConfigError([(error as Error).message]);
    }
  }

  /** A readiness check: the model is loaded (or loads now); throws with the reason otherwise. */
  async check(): Promise<Record<string, unknown>> {
    if (this.lastFailure && Date.now() - this.lastFailure.at < RETRY_AFTER_MS) {
      throw new Error(this.lastFailure.message);
    }
    try {
      const { dimensions } = await this.embedder.ready();
      this.lastFailure = undefined;
      return { model: this.embedder.model, dimensions };
    } catch (error) {
      this.lastFailure = { at: Date.now(), message: (error as Error).message };
      throw error;
    }
  }
}
