import { Redis } from 'ioredis';

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

/** Every key that starts with `prefix` (SCAN in batches: never KEYS on a shared server). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/** Unlinks every key under `prefix`, in batches; returns how many went. Never FLUSHDB: Redis is shared. */
export async function removeKeysUnder(redis: Redis, prefix: string): Promise<number> {
  const keys = await keysUnder(redis, prefix);
  let removed = 0;
  for (let start = 0; start < keys.length; start += BATCH)
    removed += await redis.unlink(...keys.slice(start, start + BATCH));
  return removed;
}

/**
 * Removes this run's keys, then returns those that exist again: written after the sweep by
 * something the tests left running.
 */
export async function removeTestKeys(redisUrl: string): Promise<{ removed: number; remaining: string[] }> {
  if (!written) return { removed: 0, remaining: [] };
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const removed = await removeKeysUnder(redis, TEST_KEY_NAMESPACE);
    return { removed, remaining: await keysUnder(redis, TEST_KEY_NAMESPACE) };
  } finally {
    redis.disconnect();
  }
}
