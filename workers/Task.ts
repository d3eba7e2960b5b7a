import type { EntityManager } from '@mikro-orm/core';
import type { Job } from 'bullmq';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import type { Notifier } from '../src/relay/Notifier.ts';

export interface TaskContext {
  job: Job;
  logger: Logger;
  /** A fork of the entity manager, private to this job. */
  em: EntityManager;
  config: Config;
  /** Notices to the user's or the asking socket's clients (see src/relay/Notifier.ts). */
  notify: Notifier;
  /** Aborted when the job is cancelled or the worker is forced to stop. */
  signal: AbortSignal;
}

/**
 * One background task: what it does (`perform`) and what happens after its last attempt fails
 * (`onFailed`). How it retries is set per job name in src/queues/jobs.ts, where the producer sees it.
 */
export abstract class Task<Payload> {
  abstract perform(payload: Payload, context: TaskContext): Promise<unknown>;

  async onFailed(_payload: Payload, _error: Error, _context: Omit<TaskContext, 'signal'>): Promise<void> {}
}
