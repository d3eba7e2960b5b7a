import type { RedisClient as Redis } from '../redis/connections.ts';
import { cancelChannel, cancelFlagKey } from '../redis/keys.ts';

/**
 * Cancelling an answer crosses processes, in two ways that cover each other:
 * - the edge publishes the job id on a channel every worker process listens to, and the one
 *   holding the job aborts it (BullMQ's `cancelJob` is a no-op for a job a worker doesn't run);
 * - the edge also sets a flag on the message, which the worker checks before it starts and when
 *   its stream is aborted, so a cancel that races the job's start is not lost.
 * Job ids are those of the catalog (src/queues/jobs.ts).
 */

/** The abort reason a user's cancel carries, to tell it from a forced shutdown. */
export const USER_CANCEL_REASON = 'cancelled by the user';

/** How long a cancel flag outlives the cancel (the answer's worker reads it well before). */
export const CANCEL_FLAG_TTL_SECONDS = 3_600;

/** Asks whichever worker holds the job to abort it. */
export const publishCancel = (redis: Redis, prefix: string, jobId: string) =>
  redis.publish(cancelChannel(prefix), jobId);

/** Calls `onCancel` with each job id a cancel is published for; `redis` becomes a subscriber. */
export function subscribeToCancels(redis: Redis, prefix: string, onCancel: (jobId: string) => void): void {
  // ioredis subscribes again after a reconnect (or, on a cluster, on another node); a failure
  // here must not become an unhandled rejection.
  redis.subscribe(cancelChannel(prefix)).catch(() => {});
  redis.on('message', (_channel: string, jobId: string) => onCancel(jobId));
}

/** The answer's cancel flag, and the two questions its sides ask of it. */
export class CancelFlags {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  /** The edge: this answer is cancelled, whoever holds it. */
  async raise(messageId: string): Promise<void> {
    await this.redis.set(cancelFlagKey(this.prefix, messageId), '1', 'EX', CANCEL_FLAG_TTL_SECONDS);
  }

  /** The worker: was a cancel asked for? */
  async raised(messageId: string): Promise<boolean> {
    return (await this.redis.exists(cancelFlagKey(this.prefix, messageId))) === 1;
  }

  /** The worker, once the answer ended cancelled: the flag may go soon. */
  async expireSoon(messageId: string): Promise<void> {
    await this.redis.expire(cancelFlagKey(this.prefix, messageId), CANCEL_FLAG_TTL_SECONDS);
  }
}
