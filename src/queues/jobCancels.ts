import type { RedisClient as Redis } from './redisConnections.ts';

/**
 * Cancelling a running job crosses processes: the edge publishes the job id on a channel every
 * worker process listens to, and the one holding the job aborts it (BullMQ's `cancelJob` is a
 * no-op for a job a worker doesn't run). Job ids are those of the catalog (src/queues/jobs.ts).
 */
export const cancelChannel = (prefix: string) => `${prefix}:jobs:cancel`;

/** The abort reason a user's cancel carries, to tell it from a forced shutdown. */
export const USER_CANCEL_REASON = 'cancelled by the user';

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
