import { z } from 'zod';
import { modelRef } from '../../../chat/schema.ts';
import { PROVIDER_KINDS, type ProviderKind, TOKENIZER_FAMILIES } from '../../../db/entities/ModelProvider.ts';
import { BUILT_IN_PROVIDER, OFFLINE_PROVIDER } from '../../../llm/ModelCatalog.ts';
import { WEBSOCKET_FIELDS } from '../../../llm/WebSocketProvider.ts';
import { text } from '../../../validation/text.ts';

export const providerParams = z.object({ id: z.uuid() });

const providerName = text()
  .regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, 'lower-case letters, digits, _ and - (at most 50)')
  .refine((name) => name !== BUILT_IN_PROVIDER && name !== OFFLINE_PROVIDER, {
    message: `"${BUILT_IN_PROVIDER}" and "${OFFLINE_PROVIDER}" are the built-in provider's names`,
  });

/** The URL schemes each kind of provider is reached by. */
const SCHEMES: Record<ProviderKind, string[]> = {
  'openai-compatible': ['http:', 'https:'],
  websocket: ['ws:', 'wss:'],
};
const schemeOf = (value: string) => (URL.canParse(value) ? new URL(value).protocol : null);

const baseUrl = text()
  .max(500)
  .refine((value) => ['http:', 'https:', 'ws:', 'wss:'].includes(schemeOf(value) ?? ''), {
    message: 'must be an http, https, ws or wss URL',
  });

/**
 * What depends on the kind: its URL scheme, tools (a WebSocket service takes none, so its models
 * can't claim them) and the field map (WebSocket only). Shared by create and by update (there
 * with the stored kind).
 */
export function kindIssues(
  kind: ProviderKind,
  input: { baseUrl?: string; models?: Array<{ supportsTools: boolean }>; fieldMap?: unknown },
): Array<{ path: string[]; message: string }> {
  const issues: Array<{ path: string[]; message: string }> = [];
  const scheme = input.baseUrl === undefined ? null : schemeOf(input.baseUrl);
  if (scheme && !SCHEMES[kind].includes(scheme))
    issues.push({
      path: ['baseUrl'],
      message:
        kind === 'websocket'
          ? 'must be a ws or wss URL for a websocket provider'
          : 'must be an http or https URL',
    });
  if (kind === 'websocket')
    input.models?.forEach((model, index) => {
      if (model.supportsTools)
        issues.push({
          path: ['models', String(index), 'supportsTools'],
          message: 'a websocket provider takes no tools: must be false',
        });
    });
  if (kind !== 'websocket' && input.fieldMap != null)
    issues.push({ path: ['fieldMap'], message: 'only a websocket provider has a field map' });
  return issues;
}

/** A websocket server's names for the answer's fields (ours → theirs). */
const fieldMapSchema = z.partialRecord(z.enum(WEBSOCKET_FIELDS), text().trim().min(1).max(100));

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
    /** WebSocket only: the server's names for the answer's fields (ours → theirs). */
    fieldMap: fieldMapSchema.optional(),
    models: providerModels,
  })
  .strict()
  .superRefine((input, ctx) => {
    for (const issue of kindIssues(input.kind, input)) ctx.addIssue({ code: 'custom', ...issue });
  });

/** Any subset; `apiKey` replaces the key (null removes it), `models` replaces the whole list. */
export const updateProviderSchema = z
  .object({
    name: providerName.optional(),
    baseUrl: baseUrl.optional(),
    apiKey: apiKey.nullable().optional(),
    timeoutMs: z.number().int().min(1_000).max(600_000).optional(),
    /** Replaces the field map (null removes it); websocket providers only. */
    fieldMap: fieldMapSchema.nullable().optional(),
    models: providerModels.optional(),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, {
    message: 'give at least one of name, baseUrl, apiKey, timeoutMs, fieldMap, models',
  });
