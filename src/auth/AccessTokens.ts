import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { UserRole } from '../db/entities/User.ts';

export interface AccessClaims {
  userId: string;
  role: UserRole;
}

export type TokenRejection = 'token_expired' | 'token_invalid';

export class InvalidTokenError extends Error {
  readonly reason: TokenRejection;
  constructor(reason: TokenRejection) {
    super(reason === 'token_expired' ? 'The access token has expired.' : 'The access token is not valid.');
    this.reason = reason;
  }
}

const ISSUER = 'parley';
const ALGORITHM = 'HS256';

/**
 * Short-lived signed access tokens (JWT, HS256). Stateless on purpose: every edge node verifies
 * them without a lookup; the refresh token is what can be revoked.
 */
export class AccessTokens {
  readonly ttlSeconds: number;
  private readonly key: Uint8Array;

  constructor(secret: string, ttlSeconds: number) {
    this.key = new TextEncoder().encode(secret);
    this.ttlSeconds = ttlSeconds;
  }

  sign(claims: AccessClaims, purpose = 'access', ttlSeconds = this.ttlSeconds): Promise<string> {
    // A random jti: two tokens for one user in the same second must not be byte-identical.
    return new SignJWT({ role: claims.role, typ: purpose })
      .setProtectedHeader({ alg: ALGORITHM })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.key);
  }

  async verify(token: string, purpose = 'access'): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: [ALGORITHM] });
      if (payload.typ !== purpose || typeof payload.sub !== 'string')
        throw new InvalidTokenError('token_invalid');
      return { userId: payload.sub, role: payload.role === 'admin' ? 'admin' : 'user' };
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error;
      throw new InvalidTokenError(error instanceof errors.JWTExpired ? 'token_expired' : 'token_invalid');
    }
  }
}
