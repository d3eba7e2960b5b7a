import type { RateLimitRule } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { loginFailuresKey } from '../redis/keys.ts';

/**
 * Why: a per-IP limit on every login attempt lets one person's wrong passwords lock out everyone
 * behind the same address (an office, a carrier NAT), and counts the good logins too. This counts
 * only FAILED sign-ins, per account (guessing one password) and, at a higher threshold, per client
 * IP (spraying many accounts). Each attempt is counted before its password is checked and given
 * back when it was not a failure, so a burst of parallel guesses can't all pass the gate. A locked
 * account or address is refused before the password is checked, whether or not the account exists. State lives in Redis, so every edge sees the same
 * counts. When Redis can't answer the attempt is let through (logged), like the other limits.
 */
export interface LoginThrottleRules {
  perAccount: RateLimitRule;
  perIp: RateLimitRule;
}

export type LoginGate = { allowed: true } | { allowed: false; retryAfterSeconds: number };

// Takes one place under the limit, or says how long until the window ends. Each script touches
// one key: on a Redis Cluster the account's and the IP's counters may sit on different masters.
const RESERVE_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then return { 0, redis.call('PTTL', KEYS[1]) } end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return { 1, 0 }
`;

// Gives a place back (never below zero, never a key without its window).
const RELEASE_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 1
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

  /**
   * Before the password is checked: counts this attempt as a failure of `email` (normalised) from
   * `ip` up front, so concurrent attempts can't all slip under the limit, or refuses it. An
   * attempt that turns out not to be a failure gives its count back: `succeeded` or `abandoned`.
   */
  async begin(email: string, ip: string): Promise<LoginGate> {
    const [accountKey, ipKey] = this.keys(email, ip);
    try {
      const account = await this.reserve(accountKey, this.rules.perAccount);
      if (!account.allowed) return account;
      const address = await this.reserve(ipKey, this.rules.perIp);
      if (!address.allowed) await this.release(accountKey);
      return address;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'login throttle unavailable; attempt allowed');
      return { allowed: true };
    }
  }

  /** A correct password: this attempt is not a failure, and the account's earlier ones are forgotten. */
  async succeeded(email: string, ip: string): Promise<void> {
    const [accountKey, ipKey] = this.keys(email, ip);
    await this.settle(() => Promise.all([this.redis.del(accountKey), this.release(ipKey)]));
  }

  /** Neither right nor wrong (the request failed for another reason): the attempt is given back. */
  async abandoned(email: string, ip: string): Promise<void> {
    await this.settle(() => Promise.all(this.keys(email, ip).map((key) => this.release(key))));
  }

  private async reserve(key: string, rule: RateLimitRule): Promise<LoginGate> {
    const [taken, ttlMs] = (await this.redis.eval(
      RESERVE_SCRIPT,
      1,
      key,
      String(rule.limit),
      String(rule.windowSeconds * 1_000),
    )) as [number, number];
    return taken === 1
      ? { allowed: true }
      : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1_000)) };
  }

  private async release(key: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, key);
  }

  private async settle(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'login attempt not settled in the throttle');
    }
  }

  private keys(email: string, ip: string): [string, string] {
    return [loginFailuresKey(this.prefix, 'account', email), loginFailuresKey(this.prefix, 'ip', ip)];
  }
}
