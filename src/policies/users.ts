import type { User } from '../db/entities/User.ts';
import { conflict, forbidden, notFound } from '../errors/AppError.ts';

/**
 * Who may do what with accounts. Routes call these before touching data; a resource the actor
 * may not see is reported as missing (404), so ids of other users can't be probed.
 */

export const isAdmin = (actor: User) => actor.role === 'admin';

/** Presence of a user: themselves, or an admin. */
export function authorizeReadPresence(actor: User, userId: string): void {
  if (actor.id !== userId && !isAdmin(actor)) throw notFound('user');
}

/** Admin-only surfaces answer 403: they are a capability, not someone's resource. */
export function authorizeAdmin(actor: User): void {
  if (!isAdmin(actor)) throw forbidden('This needs an administrator.');
}

/** An admin can't lock themselves out by disabling, demoting or deleting their own account. */
export function authorizeManageUser(actor: User, target: User): void {
  authorizeAdmin(actor);
  if (actor.id === target.id) {
    throw conflict('Administrators cannot disable, demote or delete their own account.');
  }
}
