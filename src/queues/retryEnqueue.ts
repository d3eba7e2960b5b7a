import type { Logger } from '../logger.ts';

export interface RetryOptions {
  /** Pause between tries (a failover takes seconds). */
  delayMs: number;
  /** After this the job is given up here; the stuck-work sweep recreates it (FollowUpRepair). */
  giveUpAfterMs: number;
}

export const FOLLOW_UP_RETRY: RetryOptions = { delayMs: 1_000, giveUpAfterMs: 120_000 };

/**
 * Enqueues a follow-up job (a title, a turn's embedding) that nobody waits for, trying again while
 * Redis is away: a first answer that ends during a Redis failover used to drop its follow-ups for
 * good. The job has a fixed id, so a try that had landed before its reply was lost is a no-op the
 * next time. Resolves true once enqueued, false when given up (logged once each way).
 */
export async function retryEnqueue(
  add: () => Promise<unknown>,
  what: string,
  logger: Logger,
  options: RetryOptions = FOLLOW_UP_RETRY,
): Promise<boolean> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await add();
      if (attempt > 1) logger.info({ attempts: attempt }, `${what} enqueued after retries`);
      return true;
    } catch (error) {
      if (attempt === 1) logger.warn({ err: (error as Error).message }, `${what} not enqueued yet; retrying`);
      if (Date.now() - started >= options.giveUpAfterMs) {
        logger.warn(
          { err: (error as Error).message, attempts: attempt },
          `${what} not enqueued; the stuck-work sweep recreates it`,
        );
        return false;
      }
      await new Promise((done) => setTimeout(done, options.delayMs).unref());
    }
  }
}
