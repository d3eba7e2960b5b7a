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
  /** Rounds of tool calls an answer may make before its final call, which offers no tools. */
  maxToolSteps: z.number().int().min(0).max(16),
  /** What an empty conversation offers to send (the web client shows one button each). */
  promptSuggestions: z.array(text().trim().min(1).max(200)).max(8),
} as const;

export type SettingKey = keyof typeof SETTING_SCHEMAS;
export type SettingValues = { [K in SettingKey]: z.infer<(typeof SETTING_SCHEMAS)[K]> };
export const SETTING_KEYS = Object.keys(SETTING_SCHEMAS) as SettingKey[];

export const isSettingKey = (key: string): key is SettingKey => Object.hasOwn(SETTING_SCHEMAS, key);

const DEFAULT_PROMPT_SUGGESTIONS = [
  'Explain a concept I am learning, step by step',
  'Summarise the documents I attached',
  'Help me write a clear, friendly email',
  'Plan a weekend trip with a packing list',
] as const;

export const defaultSettings = (config: Pick<Config, 'groq' | 'retentionDays'>): SettingValues => ({
  model: config.groq.model,
  temperature: 0.7,
  maxTokens: 1_024,
  retentionDays: config.retentionDays,
  topK: 6,
  maxToolSteps: 4,
  promptSuggestions: [...DEFAULT_PROMPT_SUGGESTIONS],
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

/** One setting: its stored value when valid, else its default. */
export async function readSetting<K extends SettingKey>(
  em: EntityManager,
  config: Pick<Config, 'groq' | 'retentionDays'>,
  key: K,
): Promise<SettingValues[K]> {
  const row = await em.findOne(Setting, { key });
  const parsed = row ? SETTING_SCHEMAS[key].safeParse(row.value) : undefined;
  return parsed?.success ? (parsed.data as SettingValues[K]) : defaultSettings(config)[key];
}

export async function writeSetting<K extends SettingKey>(
  em: EntityManager,
  key: K,
  value: SettingValues[K],
): Promise<void> {
  await em.upsert(Setting, { key, value, updatedAt: new Date() });
}
