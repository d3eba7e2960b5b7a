import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.ts';
import { isDatabaseUnavailable } from './databaseUnavailable.ts';

export interface WaitOptions {
  logger: Logger;
  /** What is waiting, for the log: "ending answer 0193…". */
  what: string;
  /** Stop waiting (and throw) when this aborts: a forced shutdown hands the work back. */
  signal?: AbortSignal;
  /** Give up after this long; the sweeper ends what is still unfinished. */
  maxWaitMs?: number;
}

const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;
const DEFAULT_MAX_WAIT_MS = 10 * 60_000;

/**
 * Runs `work`, and while it fails because the database is unreachable, runs it again with
 * backoff (200 ms doubling to 5 s) until it succeeds, the wait runs out or `signal` aborts.
 * For writes that must happen once the database is back (an answer's terminal status), not
 * for reads a user is waiting on. `work` must be safe to repeat: a write that may have landed
 * before the connection broke is repeated.
 */
export async function untilDatabaseAnswers<Result>(
  work: () => Promise<Result>,
  { logger, what, signal, maxWaitMs = DEFAULT_MAX_WAIT_MS }: WaitOptions,
): Promise<Result> {
  const deadline = Date.now() + maxWaitMs;
  let delay = FIRST_DELAY_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await work();
      if (attempt > 1) logger.info({ attempt }, `database back: ${what} done`);
      return result;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || signal?.aborted || Date.now() + delay > deadline) throw error;
      if (attempt === 1)
        logger.warn({ err: (error as Error).message }, `database unavailable: ${what} waits for it`);
      await sleep(delay, undefined, signal ? { signal } : undefined).catch(() => {
        throw error;
      });
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}
