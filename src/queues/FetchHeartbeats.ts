import type { RedisClient } from '../redis/connections.ts';
import { fetchHeartbeatsKey } from '../redis/keys.ts';

/** Beats older than this are dropped when a worker beats (the set stays small). */
export const FORGET_AFTER_MS = 3_600_000;

/**
 * Workers say that their fetch loop runs: each beat is a worker's id in a sorted set per queue,
 * scored by time. A worker registered on a queue (BullMQ counts its connections) may still take
 * no job: its loop can hang on a blocking call that never returned after a Redis failover.
 * Readiness asks how many beat recently, so "2 workers" no longer hides "none fetching".
 */
export class FetchHeartbeats {
  private readonly redis: RedisClient;
  private readonly prefix: string;

  /** `prefix`: BullMQ's (`{parley}` on a cluster). */
  constructor(redis: RedisClient, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  /** Next to the queue's own keys (BullMQ's prefix: on a cluster, the queues' slot). */
  private key(queue: string): string {
    return fetchHeartbeatsKey(this.prefix, queue);
  }

  /** True when the queue's Redis (its master, on a cluster) answers: a stalled loop is then a hang. */
  async reachable(queue: string): Promise<boolean> {
    return this.redis.zcard(this.key(queue)).then(
      () => true,
      () => false,
    );
  }

  async beat(queue: string, workerId: string, now = Date.now()): Promise<void> {
    await this.redis.zadd(this.key(queue), now, workerId);
    await this.redis.zremrangebyscore(this.key(queue), '-inf', now - FORGET_AFTER_MS);
  }

  /** How many workers of `queue` beat within the last `withinMs`. */
  async fresh(queue: string, withinMs: number, now = Date.now()): Promise<number> {
    return this.redis.zcount(this.key(queue), now - withinMs, '+inf');
  }
}
