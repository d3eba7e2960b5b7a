import type { EmbedderHealth } from '../../embeddings/EmbedderHealth.ts';
import { AppError } from '../../errors/AppError.ts';
import type { AppMiddleware } from '../state.ts';

/** Matches how often EmbedderHealth tries loading the model again after a failure. */
const RETRY_AFTER_SECONDS = 60;

/**
 * Refuses work that needs the embedding model while it is not loaded: 503 with Retry-After,
 * rather than accepting an upload that could only fail later. Which model, where it was looked
 * for and how to fix it go to the log and /health/ready, never to the client.
 */
export const requireEmbedder =
  (embedder: EmbedderHealth): AppMiddleware =>
  async (ctx, next) => {
    try {
      await embedder.check();
    } catch (error) {
      ctx.state.log?.warn({ err: (error as Error).message }, 'refused: embedding model not loaded');
      throw new AppError(
        'embedder_unavailable',
        'Documents cannot be processed right now (the embedding model is not loaded); try again in a minute.',
        { retryAfterSeconds: RETRY_AFTER_SECONDS },
      );
    }
    await next();
  };
