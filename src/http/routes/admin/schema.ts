import { z } from 'zod';
import { USER_ROLES } from '../../../db/entities/User.ts';
import { SETTING_SCHEMAS, type SettingKey } from '../../../settings/RuntimeSettings.ts';
import { text } from '../../../validation/text.ts';
import { pageQuerySchema } from '../../pagination.ts';

export const userIdParams = z.object({ id: z.uuid() });

export const listUsersQuery = pageQuerySchema.extend({ q: text().trim().max(200).optional() }).strict();

export const updateUserSchema = z
  .object({
    name: text().trim().min(1).max(200).nullable().optional(),
    role: z.enum(USER_ROLES).optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, { message: 'give at least one of name, role, disabled' });

export const settingParams = z.object({ key: text().max(100) });
/** `{ value }`, checked by the rules of that setting. */
export const settingBodySchema = (key: SettingKey) => z.object({ value: SETTING_SCHEMAS[key] }).strict();
