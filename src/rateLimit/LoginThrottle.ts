import type { RateLimitRule } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { loginFailuresKey } from '../redis/keys.ts';

/**
 * Why: a per-IP limit on every login attempt lets one person's wrong passwords lock out everyone
 * behind the same address (an office, a carrier NAT), and counts the good logins too. This counts
 * only FAILED sign-ins, per account (guessing one password) and, at a higher threshold, per client
 * IP (spraying many accounts). A locked account or address is refused before the password is
 * checked, whether or not the account exists. State lives in Redis, so every edge sees the same
 * counts. When Redis can't answer the attempt is let through (logged), like the other limits.
 */
export interface LoginThrottleRules {
  perAccount: RateLimitRule;
  perIp: RateLimitRule;
}

export type LoginGate = { allowed: true } | { allowed: false; retryAfterSeconds: number };

// One counter and its remaining lifetime. Each script touches one key: on a Redis Cluster the
// account's and the IP's counters may sit on different masters.
const PEEK_SCRIPT = `
return { tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1]) }
`;

// A failure: the counter goes up by one; its window starts with its first failure.
const FAIL_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
`;

export class LoginThrottle {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly rules: LoginThrottleRules;
  private readonly logger: Logger;

  constructor(deps: { redis: Redis; prefix: string; rules: LoginThrottleRules; logger: Logger }) {
    this.redis = deps.redis;
    this.prefix = deps.prefix;
    this.rules = deps.rules;
    this.logger = deps.logger;
  }

  /** Whether a sign-in for `email` (normalised) from `ip` may have its password checked now. */
  async gate(email: string, ip: string): Promise<LoginGate> {
    try {
      const [account, address] = await Promise.all(
        this.keys(email, ip).map(
          async (key) => (await this.redis.eval(PEEK_SCRIPT, 1, key)) as [number, number],
        ),
      );
      const waits: number[] = [];
      if (account![0] >= this.rules.perAccount.limit) waits.push(account![1]);
      if (address![0] >= this.rules.perIp.limit) waits.push(address![1]);
      if (waits.length === 0) return { allowed: true };
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(Math.max(...waits) / 1_000)) };
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'login throttle unavailable; attempt allowed');
      return { allowed: true };
    }
  }

  /** A wrong password (or an unknown account): one more failure for the account and the IP. */
  async failed(email: string, ip: string): Promise<void> {
    try {
      const [accountKey, ipKey] = this.keys(email, ip);
      await Promise.all([
        this.redis.eval(FAIL_SCRIPT, 1, accountKey, String(this.rules.perAccount.windowSeconds * 1_000)),
        this.redis.eval(FAIL_SCRIPT, 1, ipKey, String(this.rules.perIp.windowSeconds * 1_000)),
      ]);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'login failure not counted');
    }
  }

  /** A correct password: the account's earlier failures are forgotten (the IP's are not). */
  async succeeded(email: string): Promise<void> {
    try {
      await this.redis.del(loginFailuresKey(this.prefix, 'account', email));
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'login failures not cleared');
    }
  }

  private keys(email: string, ip: string): [string, string] {
    return [loginFailuresKey(this.prefix, 'account', email), loginFailuresKey(this.prefix, 'ip', ip)];
  }
}
