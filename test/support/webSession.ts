import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { TEST_JWT_SECRET } from './services.ts';

/**
 * An access token exactly like the edge's (src/auth/AccessTokens.ts: same secret, issuer and
 * claims) that expired a minute ago: handed to a page in place of a fresh one, it forces the
 * expiry path (401 `token_expired`, socket `connect_error`) without waiting out a real lifetime
 * (ACCESS_TOKEN_TTL_SECONDS is at least 30 s).
 */
export async function expiredAccessToken(userId: string, role: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role, typ: 'access' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer('parley')
    .setIssuedAt(now - 120)
    .setJti(randomUUID())
    .setExpirationTime(now - 60)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}
