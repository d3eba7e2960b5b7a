import { Cluster } from 'ioredis';
import { scanKeys } from '../../src/redis/cluster.ts';
import type { RedisClient } from '../../src/redis/connections.ts';

/**
 * Every Redis key a test run writes lives under this run's namespace (queue prefixes start with
 * it; BullMQ, rate limits, replay logs and presence all use the queue prefix). The process id
 * keeps runs apart: the Redis is shared, so a run removes its own keys and nobody else's.
 */
export const TEST_KEY_NAMESPACE = `parley-test-${process.pid}-`;

let written = false;

/** Called for each prefix handed out, so the end of the run knows there is something to remove. */
export function noteTestPrefix(): void {
  written = true;
}

const BATCH = 500;

/**
 * Every key that starts with `prefix`, or with `{prefix` (BullMQ's hash-tagged keys on a cluster).
 * SCAN in batches, each master of a cluster in turn: never KEYS on a shared server.
 */
export async function keysUnder(redis: RedisClient, prefix: string): Promise<string[]> {
  const found: string[] = [];
  const escaped = prefix.replace(/[*?[\]\\{}]/g, '\\$&');
  for (const pattern of [`${escaped}*`, `\\{${escaped}*`])
    for await (const keys of scanKeys(redis, pattern, BATCH)) found.push(...keys);
  return found;
}

/**
 * Unlinks every key under `prefix`; returns how many went. Never FLUSHDB: Redis is shared. One key
 * per UNLINK on a cluster, where keys of different slots can't go in one command.
 */
export async function removeKeysUnder(redis: RedisClient, prefix: string): Promise<number> {
  const keys = await keysUnder(redis, prefix);
  let removed = 0;
  if (redis instanceof Cluster) {
    for (let start = 0; start < keys.length; start += BATCH)
      for (const count of await Promise.all(keys.slice(start, start + BATCH).map((key) => redis.unlink(key))))
        removed += count;
    return removed;
  }
  for (let start = 0; start < keys.length; start += BATCH)
    removed += await redis.unlink(...keys.slice(start, start + BATCH));
  return removed;
}

/**
 * Removes this run's keys, then returns those that exist again: written after the sweep by
 * something the tests left running.
 */
export async function removeTestKeys(
  connect: () => RedisClient,
): Promise<{ removed: number; remaining: string[] }> {
  if (!written) return { removed: 0, remaining: [] };
  const redis = connect();
  try {
    const removed = await removeKeysUnder(redis, TEST_KEY_NAMESPACE);
    return { removed, remaining: await keysUnder(redis, TEST_KEY_NAMESPACE) };
  } finally {
    redis.disconnect();
  }
}
