import type { RateLimitRule } from '../config.ts';
import { rateLimited } from '../errors/AppError.ts';
import type { RateLimiter } from '../rateLimit/RateLimiter.ts';

export interface MessageBudget {
  limiter: RateLimiter;
  messageLimit: RateLimitRule;
}

/**
 * Counts one socket call against the user's message limit (RATE_LIMIT_MESSAGES, shared by every
 * edge through Redis); past it, throws `rate_limited` with the seconds until the window resets.
 */
export async function spendMessage(budget: MessageBudget, userId: string): Promise<void> {
  const decision = await budget.limiter.hit('messages', `user:${userId}`, budget.messageLimit);
  if (decision.allowed) return;
  throw rateLimited(decision.retryAfterSeconds, 'messages');
}
