import type { QueueName } from '../config.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { publishCancel } from './cancels.ts';
import type { Queues } from './Queues.ts';

/**
 * How a stop ended: `removed` from the queue before a worker took it, `missing` (no such job),
 * `ended` already (completed or failed), or `signalled` to whichever worker holds it.
 */
export type StopOutcome = 'removed' | 'missing' | 'ended' | 'signalled';

/** Job states in which no worker holds the job, so removing it stops it. */
const REMOVABLE_STATES = new Set(['waiting', 'delayed', 'prioritized']);

/** Stops a job by id wherever it is: still queued, or running on some worker process. */
export class JobStopper {
  private readonly queues: Queues;
  /** Publishes on the cancel channel (a command connection will do). */
  private readonly redis: Redis;

  constructor(queues: Queues, redis: Redis) {
    this.queues = queues;
    this.redis = redis;
  }

  /**
   * Removes the job if it is waiting, delayed or prioritized; otherwise (running, or taken by a
   * worker while being removed) publishes a cancel, which the worker holding it turns into an
   * abort with USER_CANCEL_REASON.
   */
  async stop(queue: QueueName, jobId: string): Promise<StopOutcome> {
    const job = await this.queues.get(queue).getJob(jobId);
    if (!job) return 'missing';
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return 'ended';
    if (REMOVABLE_STATES.has(state)) {
      const removed = await job.remove().then(
        () => true,
        () => false,
      );
      if (removed) return 'removed';
    }
    await publishCancel(this.redis, this.queues.prefix, jobId);
    return 'signalled';
  }
}
