import type { RateLimitRule } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { rateLimitKey } from '../redis/keys.ts';

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

// Fixed window counter: one atomic round trip; the window starts with the first hit.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { count, redis.call('PTTL', KEYS[1]) }
`;

/**
 * Rate limits kept in Redis, so a limit holds however many edge nodes share the traffic.
 * When Redis can't answer the request is let through (logged): availability over strictness.
 */
export class RateLimiter {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly logger: Logger;

  constructor(redis: Redis, prefix: string, logger: Logger) {
    this.redis = redis;
    this.prefix = prefix;
    this.logger = logger;
  }

  async hit(bucket: string, key: string, rule: RateLimitRule): Promise<RateDecision> {
    try {
      const [count, ttlMs] = (await this.redis.eval(
        HIT_SCRIPT,
        1,
        rateLimitKey(this.prefix, bucket, key),
        String(rule.windowSeconds * 1_000),
      )) as [number, number];
      return {
        allowed: count <= rule.limit,
        remaining: Math.max(0, rule.limit - count),
        retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1_000)),
      };
    } catch (error) {
      this.logger.warn(
        { bucket, err: (error as Error).message },
        'rate limiter unavailable; request allowed',
      );
      return { allowed: true, remaining: rule.limit, retryAfterSeconds: 0 };
    }
  }
}
