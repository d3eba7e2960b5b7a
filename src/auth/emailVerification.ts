import type { User } from '../db/entities/User.ts';
import type { AccessTokens } from './AccessTokens.ts';

/** Verification links carry a signed, single-purpose token: nothing to store, valid for a day. */
export const VERIFY_EMAIL_PURPOSE = 'verify-email';
const VERIFY_EMAIL_TTL_SECONDS = 24 * 3_600;

export const signVerificationToken = (tokens: AccessTokens, user: Pick<User, 'id' | 'role'>) =>
  tokens.sign({ userId: user.id, role: user.role }, VERIFY_EMAIL_PURPOSE, VERIFY_EMAIL_TTL_SECONDS);

/**
 * The web app's page that verifies the address (it calls GET /api/v1/auth/verify with the token
 * and says what happened), so the mail opens a page rather than raw JSON.
 */
export const verificationLink = (publicUrl: string, token: string) =>
  `${publicUrl.replace(/\/$/, '')}/verify-email?token=${encodeURIComponent(token)}`;
