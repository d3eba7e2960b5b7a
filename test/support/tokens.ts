import { SignJWT } from 'jose';
import { TEST_JWT_SECRET } from './services.ts';

/** An access token for `userId`, correctly signed, that expired `secondsAgo` ago. */
export function expiredAccessToken(userId: string, secondsAgo = 10): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'user', typ: 'access' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer('parley')
    .setIssuedAt(now - 1_000)
    .setExpirationTime(now - secondsAgo)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}
