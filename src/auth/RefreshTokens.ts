import { createHash, randomBytes } from 'node:crypto';
import { type EntityManager, LockMode } from '@mikro-orm/core';
import { RefreshToken } from '../db/entities/RefreshToken.ts';
import type { User } from '../db/entities/User.ts';
import { newId } from '../db/ids.ts';

export type RefreshRejection = 'refresh_token_invalid' | 'refresh_token_revoked' | 'refresh_token_reused';

export type Rotation = { ok: true; token: string; user: User } | { ok: false; reason: RefreshRejection };

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Opaque refresh tokens, stored only as SHA-256 digests. Each use rotates the token within its
 * family; presenting a spent token again means it leaked, so the whole family is revoked. A token
 * revoked without a successor (logout, a revoked family, a disabled account) is simply refused.
 */
export class RefreshTokens {
  readonly ttlSeconds: number;

  constructor(ttlSeconds: number) {
    this.ttlSeconds = ttlSeconds;
  }

  /** A new token; a new family unless one is given (rotation). Persisted on the next flush. */
  issue(em: EntityManager, user: User, family: string = newId()): { token: string; record: RefreshToken } {
    const token = randomBytes(32).toString('base64url');
    const record = em.create(RefreshToken, {
      user,
      tokenHash: digest(token),
      family,
      expiresAt: new Date(Date.now() + this.ttlSeconds * 1_000),
    });
    return { token, record };
  }

  /**
   * Spends `token` and returns its successor. Call inside a transaction; a rejection is a
   * result, not a throw, so the family's revocation on reuse commits with it.
   */
  async rotate(em: EntityManager, token: string): Promise<Rotation> {
    const current = await em.findOne(
      RefreshToken,
      { tokenHash: digest(token) },
      // Locked: two concurrent refreshes with one token must not both succeed.
      { populate: ['user'], lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!current) return { ok: false, reason: 'refresh_token_invalid' };
    if (current.revokedAt) {
      // Only a token that was rotated (it has a successor) can be "reused"; a logged-out one
      // coming back is a client that kept it, not a leak, so the rest of its family stays.
      if (!current.replacedById) return { ok: false, reason: 'refresh_token_revoked' };
      await this.revokeFamily(em, current.family);
      return { ok: false, reason: 'refresh_token_reused' };
    }
    const user = current.user;
    if (current.expiresAt.getTime() <= Date.now() || user.disabledAt)
      return { ok: false, reason: 'refresh_token_invalid' };
    const next = this.issue(em, user, current.family);
    current.revokedAt = new Date();
    current.replacedById = next.record.id;
    return { ok: true, token: next.token, user };
  }

  /** Logout: the token stops working; other sessions (families) are untouched. */
  async revoke(em: EntityManager, token: string): Promise<boolean> {
    const revoked = await em.nativeUpdate(
      RefreshToken,
      { tokenHash: digest(token), revokedAt: null },
      { revokedAt: new Date() },
    );
    return revoked > 0;
  }

  revokeFamily(em: EntityManager, family: string): Promise<number> {
    return em.nativeUpdate(RefreshToken, { family, revokedAt: null }, { revokedAt: new Date() });
  }

  revokeAllOf(em: EntityManager, userId: string): Promise<number> {
    return em.nativeUpdate(RefreshToken, { user: userId, revokedAt: null }, { revokedAt: new Date() });
  }
}
