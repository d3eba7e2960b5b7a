import type { ModelProvider } from '../db/entities/ModelProvider.ts';
import { danglingFallbacks } from '../llm/fallbackTargets.ts';
import type { ModelEntry } from '../llm/ModelCatalog.ts';

export interface ModelPresentation {
  id: string;
  name: string;
  provider: string;
  contextTokens: number;
  supportsTools: boolean;
  isDefault: boolean;
}

/** What a user sees of a model: never where it is served from or with which key. */
export const presentModel = (model: ModelEntry): ModelPresentation => ({
  id: model.ref,
  name: model.name,
  provider: model.provider,
  contextTokens: model.contextTokens,
  supportsTools: model.supportsTools,
  isDefault: model.isDefault,
});

/**
 * What an admin sees of a provider: everything but the key (`hasApiKey` says whether there is one).
 * Each model's `danglingFallbacks` are its fallbacks that name no model of `targets` (GET /models)
 * any more: answers skip them.
 */
export const presentProvider = (provider: ModelProvider, targets: Set<string>) => ({
  id: provider.id,
  name: provider.name,
  kind: provider.kind,
  baseUrl: provider.baseUrl,
  hasApiKey: provider.apiKeySealed != null,
  timeoutMs: provider.timeoutMs,
  fieldMap: provider.fieldMap ?? null,
  readOnly: false,
  models: provider.models.map((model) => ({
    ...model,
    danglingFallbacks: danglingFallbacks(model, targets),
  })),
  createdAt: provider.createdAt.toISOString(),
  updatedAt: provider.updatedAt.toISOString(),
});
