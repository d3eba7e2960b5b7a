import { defineEntity, p } from '@mikro-orm/core';
import { createdAtColumn, idColumn, updatedAtColumn } from '../columns.ts';

/** `websocket`: a custom service speaking Parley's WebSocket protocol (src/llm/WebSocketProvider.ts). */
export const PROVIDER_KINDS = ['openai-compatible', 'websocket'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** How a model's prompt is counted for its context budget (see src/llm/ModelCatalog.ts). */
export const TOKENIZER_FAMILIES = ['llama3', 'approximate'] as const;
export type TokenizerFamily = (typeof TOKENIZER_FAMILIES)[number];

/** What a provider's sealed API key is bound to (src/secrets/SecretBox.ts): it opens for that row only. */
export const apiKeySealContext = (providerId: string) => `model-provider:${providerId}:api-key`;

/** One model a provider serves, as the admin described it. */
export interface ProviderModel {
  /** The provider's own name for it (sent as `model`). */
  id: string;
  /** What users see. */
  name: string;
  contextTokens: number;
  tokenizer: TokenizerFamily;
  supportsTools: boolean;
  /** Model refs (GET /models ids) tried in order when this one fails before its first token. */
  fallbacks: string[];
  enabled: boolean;
}

/**
 * A model service an admin configured (besides the built-in Groq provider). The API key is
 * stored sealed (src/secrets/SecretBox.ts) and never leaves the server: presenters say only
 * whether there is one.
 */
export const ModelProviderSchema = defineEntity({
  name: 'ModelProvider',
  tableName: 'model_providers',
  properties: {
    id: idColumn(),
    /** Lower-case slug, unique; the first part of its models' refs (`name:modelId`). */
    name: p.string().length(50).unique(),
    kind: p.enum(PROVIDER_KINDS),
    baseUrl: p.string().length(500),
    apiKeySealed: p.text().nullable(),
    timeoutMs: p.integer().default(60_000),
    models: p.json<ProviderModel[]>(),
    /** WebSocket providers: the server's names for the answer's fields (ours → theirs); null: ours. */
    fieldMap: p.json<Partial<Record<string, string>>>().nullable(),
    createdAt: createdAtColumn(),
    updatedAt: updatedAtColumn(),
  },
});

export class ModelProvider extends ModelProviderSchema.class {}
ModelProviderSchema.setClass(ModelProvider);
