import type { RateLimitRule } from '../../config.ts';
import { rateLimited } from '../../errors/AppError.ts';
import type { RateLimiter } from '../../rateLimit/RateLimiter.ts';
import type { AppContext, AppMiddleware } from '../state.ts';

export const byClientIp = (ctx: AppContext) => `ip:${ctx.ip}`;
/** Only behind authenticate(), which sets ctx.state.user. */
export const byUser = (ctx: AppContext) => `user:${ctx.state.user.id}`;

/** 429 with Retry-After once `keyOf(ctx)` has used up `rule` in the `bucket`. */
export const rateLimit =
  (
    limiter: RateLimiter,
    bucket: string,
    rule: RateLimitRule,
    keyOf: (ctx: AppContext) => string,
  ): AppMiddleware =>
  async (ctx, next) => {
    const decision = await limiter.hit(bucket, keyOf(ctx), rule);
    ctx.set('RateLimit-Limit', String(rule.limit));
    ctx.set('RateLimit-Remaining', String(decision.remaining));
    if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds, 'requests');
    await next();
  };
