import type { User } from '../db/entities/User.ts';

export interface UserPresentation {
  id: string;
  email: string;
  name: string | null;
  role: User['role'];
  emailVerified: boolean;
  disabled: boolean;
  createdAt: string;
}

/** The API shape of a user: never the password hash. */
export const presentUser = (user: User): UserPresentation => ({
  id: user.id,
  email: user.email,
  name: user.name ?? null,
  role: user.role,
  emailVerified: Boolean(user.emailVerifiedAt),
  disabled: Boolean(user.disabledAt),
  createdAt: user.createdAt.toISOString(),
});
