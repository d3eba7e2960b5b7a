import { z } from 'zod';
import { modelRef } from '../../../chat/schema.ts';
import { PROVIDER_KINDS, TOKENIZER_FAMILIES } from '../../../db/entities/ModelProvider.ts';
import { BUILT_IN_PROVIDER, OFFLINE_PROVIDER } from '../../../llm/ModelCatalog.ts';
import { text } from '../../../validation/text.ts';

export const providerParams = z.object({ id: z.uuid() });

const providerName = text()
  .regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, 'lower-case letters, digits, _ and - (at most 50)')
  .refine((name) => name !== BUILT_IN_PROVIDER && name !== OFFLINE_PROVIDER, {
    message: `"${BUILT_IN_PROVIDER}" and "${OFFLINE_PROVIDER}" are the built-in provider's names`,
  });

const baseUrl = text()
  .max(500)
  .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), {
    message: 'must be an http or https URL',
  });

/** Write-only: accepted here, sealed before it is stored, never returned. */
const apiKey = text().min(1).max(4_000);

const providerModel = z
  .object({
    id: text().trim().min(1).max(200),
    name: text().trim().min(1).max(200).optional(),
    contextTokens: z.number().int().min(512).max(10_000_000),
    tokenizer: z.enum(TOKENIZER_FAMILIES).default('approximate'),
    supportsTools: z.boolean().default(false),
    /** Model ids of GET /models, tried in order when this one fails before its first token. */
    fallbacks: z.array(modelRef).max(3).default([]),
    enabled: z.boolean().default(true),
  })
  .strict()
  .transform((model) => ({ ...model, name: model.name ?? model.id }));

const providerModels = z
  .array(providerModel)
  .min(1)
  .max(100)
  .refine((models) => new Set(models.map((model) => model.id)).size === models.length, {
    message: 'model ids must be unique within a provider',
  });

export const createProviderSchema = z
  .object({
    name: providerName,
    kind: z.enum(PROVIDER_KINDS).default('openai-compatible'),
    baseUrl,
    apiKey: apiKey.optional(),
    timeoutMs: z.number().int().min(1_000).max(600_000).default(60_000),
    models: providerModels,
  })
  .strict();

/** Any subset; `apiKey` replaces the key (null removes it), `models` replaces the whole list. */
export const updateProviderSchema = z
  .object({
    name: providerName.optional(),
    baseUrl: baseUrl.optional(),
    apiKey: apiKey.nullable().optional(),
    timeoutMs: z.number().int().min(1_000).max(600_000).optional(),
    models: providerModels.optional(),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, {
    message: 'give at least one of name, baseUrl, apiKey, timeoutMs, models',
  });
