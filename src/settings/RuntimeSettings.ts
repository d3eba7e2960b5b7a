import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { Setting } from '../db/entities/Setting.ts';
import { text } from '../validation/text.ts';

/**
 * Settings an admin may change at run time, without a restart: answers read them through the
 * worker's SettingsCache (dropped when a change is announced), other jobs read them per job.
 */
export const SETTING_SCHEMAS = {
  model: text().trim().min(1).max(200),
  temperature: z.number().min(0).max(2),
  maxTokens: z.number().int().min(16).max(32_768),
  retentionDays: z.number().int().min(0).max(36_500),
  topK: z.number().int().min(1).max(50),
} as const;

export type SettingKey = keyof typeof SETTING_SCHEMAS;
export type SettingValues = { [K in SettingKey]: z.infer<(typeof SETTING_SCHEMAS)[K]> };
export const SETTING_KEYS = Object.keys(SETTING_SCHEMAS) as SettingKey[];

export const isSettingKey = (key: string): key is SettingKey => Object.hasOwn(SETTING_SCHEMAS, key);

export const defaultSettings = (config: Pick<Config, 'groq' | 'retentionDays'>): SettingValues => ({
  model: config.groq.model,
  temperature: 0.7,
  maxTokens: 1_024,
  retentionDays: config.retentionDays,
  topK: 6,
});

/** Defaults from the configuration, overridden by what is stored (a bad stored value is ignored). */
export async function readSettings(
  em: EntityManager,
  config: Pick<Config, 'groq' | 'retentionDays'>,
): Promise<SettingValues> {
  const values: Record<string, unknown> = { ...defaultSettings(config) };
  for (const row of await em.find(Setting, { key: { $in: SETTING_KEYS } })) {
    const parsed = SETTING_SCHEMAS[row.key as SettingKey].safeParse(row.value);
    if (parsed.success) values[row.key] = parsed.data;
  }
  return values as SettingValues;
}

export async function writeSetting<K extends SettingKey>(
  em: EntityManager,
  key: K,
  value: SettingValues[K],
): Promise<void> {
  await em.upsert(Setting, { key, value, updatedAt: new Date() });
}
