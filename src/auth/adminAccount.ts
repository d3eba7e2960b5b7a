import { type EntityManager, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Config } from '../config.ts';
import { User } from '../db/entities/User.ts';
import { hashPassword, passwordMatches } from './passwords.ts';

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * ADMIN_EMAIL + ADMIN_PASSWORD: create that account as an admin, or promote it (and set the
 * password) when it exists. Runs at every edge start; idempotent.
 */
export async function ensureAdminAccount(
  em: EntityManager,
  admin: Config['admin'],
  attempt = 1,
): Promise<User | undefined> {
  if (!admin.email || !admin.password) return undefined;
  const email = normalizeEmail(admin.email);
  const existing = await em.findOne(User, { email }, { populate: ['passwordHash'] });
  if (existing) {
    existing.role = 'admin';
    existing.disabledAt = null;
    if (!(await passwordMatches(existing.passwordHash, admin.password))) {
      existing.passwordHash = await hashPassword(admin.password);
    }
    await em.flush();
    return existing;
  }
  const user = em.create(User, {
    email,
    passwordHash: await hashPassword(admin.password),
    role: 'admin',
    emailVerifiedAt: new Date(),
  });
  try {
    await em.flush();
  } catch (error) {
    // Another edge node created it at the same moment: take the promote path instead.
    if (!(error instanceof UniqueConstraintViolationException) || attempt > 1) throw error;
    em.clear();
    return ensureAdminAccount(em, admin, attempt + 1);
  }
  return user;
}
