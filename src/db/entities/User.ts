import { defineEntity, p } from '@mikro-orm/core';
import { createdAtColumn, idColumn, updatedAtColumn } from '../columns.ts';

export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const UserSchema = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: idColumn(),
    email: p.string().length(320),
    passwordHash: p.text().hidden().lazy(),
    name: p.string().length(200).nullable(),
    role: p.enum(USER_ROLES).default('user'),
    emailVerifiedAt: p.datetime().nullable(),
    disabledAt: p.datetime().nullable(),
    createdAt: createdAtColumn(),
    updatedAt: updatedAtColumn(),
  },
  uniques: [
    // Case-insensitive uniqueness lives in the database, not only in the signup code.
    {
      name: 'users_email_lower_unique',
      expression: 'create unique index "users_email_lower_unique" on "users" (lower("email"))',
    },
  ],
});

export class User extends UserSchema.class {}
UserSchema.setClass(User);
