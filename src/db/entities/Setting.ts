import { defineEntity, p } from '@mikro-orm/core';
import { updatedAtColumn } from '../columns.ts';

/** Runtime settings an admin can change without a restart; workers read them per job. */
export const SettingSchema = defineEntity({
  name: 'Setting',
  tableName: 'settings',
  properties: {
    key: p.string().length(100).primary(),
    value: p.json<unknown>(),
    updatedAt: updatedAtColumn(),
  },
});

export class Setting extends SettingSchema.class {}
SettingSchema.setClass(Setting);
