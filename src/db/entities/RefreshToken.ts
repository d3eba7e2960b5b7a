import { defineEntity, p } from '@mikro-orm/core';
import { createdAtColumn, idColumn } from '../columns.ts';
import { User } from './User.ts';

/** An opaque refresh token, stored only as a hash; rotation keeps the family so reuse can revoke it whole. */
export const RefreshTokenSchema = defineEntity({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  properties: {
    id: idColumn(),
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    tokenHash: p.string().length(64).unique(),
    family: p.uuid().index(),
    expiresAt: p.datetime().index(),
    revokedAt: p.datetime().nullable(),
    replacedById: p.uuid().nullable(),
    createdAt: createdAtColumn(),
  },
});

export class RefreshToken extends RefreshTokenSchema.class {}
RefreshTokenSchema.setClass(RefreshToken);
