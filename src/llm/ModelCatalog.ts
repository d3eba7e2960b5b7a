import type { EntityManager } from '@mikro-orm/core';
import { ReadThroughCache } from '../cache/ReadThroughCache.ts';
import type { Config } from '../config.ts';
import { apiKeySealContext, ModelProvider, type TokenizerFamily } from '../db/entities/ModelProvider.ts';
import type { Logger } from '../logger.ts';
import { listenForAnnouncements } from '../redis/announcements.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { settingsChannel } from '../redis/keys.ts';
import { Redactor } from '../secrets/Redactor.ts';
import { type SecretBox, UnreadableSecretError } from '../secrets/SecretBox.ts';
import { createLlmProvider } from './createLlmProvider.ts';
import { type ChainStep, FallbackChain } from './FallbackChain.ts';
import type { LlmError, LlmProvider } from './LlmProvider.ts';
import { OFFLINE_MODEL } from './OfflineProvider.ts';
import { OpenAiCompatibleProvider } from './OpenAiCompatibleProvider.ts';
import { WebSocketConnection } from './WebSocketConnection.ts';
import { WebSocketProvider } from './WebSocketProvider.ts';

/** The built-in provider's name (env-configured Groq, or the offline stand-in without a key). */
export const BUILT_IN_PROVIDER = 'groq';
export const OFFLINE_PROVIDER = 'offline';

/** A model fails over to at most this many others. */
const MAX_FALLBACKS = 3;
const PROVIDERS_KEY = 'providers';

/**
 * An unknown tokenizer may cut text finer than Llama 3's BPE: such a model's budget is its
 * context size less this share, counted with the Llama 3 tokenizer (src/llm/tokenCount.ts).
 */
const APPROXIMATE_MARGIN = 0.25;

/** One model a user may pick (GET /api/v1/models). */
export interface ModelEntry {
  /**
   * Stable ref: a built-in Groq model is its Groq id (`llama-3.1-8b-instant`), a configured
   * provider's model is `provider:modelId` (provider names are slugs, without `:`).
   */
  ref: string;
  modelId: string;
  name: string;
  provider: string;
  contextTokens: number;
  tokenizer: TokenizerFamily;
  supportsTools: boolean;
  fallbacks: string[];
  isDefault: boolean;
}

/** What one answer uses: its models in fallback order and the prompt budget they all fit. */
export interface ModelChain {
  chain: FallbackChain;
  /**
   * The prompt plus answer budget: the smallest of the chain's models (less APPROXIMATE_MARGIN
   * for a model whose tokenizer is not Llama 3's) and CHAT_CONTEXT_TOKENS.
   */
  contextTokens: number;
  /** Whether tools may be offered: every model of the chain takes them (a fallback may answer a step). */
  supportsTools: boolean;
  /** Hides every model provider's key (the built-in one's too) in text from outside (tool results). */
  redactor: Redactor;
}

export const configuredRef = (provider: string, modelId: string) => `${provider}:${modelId}`;

/**
 * Every model Parley can answer with: the built-in Groq models (the admin's `model` setting,
 * GROQ_MODELS) or the offline stand-in, and the models of the providers admins configured
 * (model_providers). The configured providers are read once per process and kept until an
 * admin changes one (announced on the settings channel, like SettingsCache), so a change
 * reaches running workers without a restart.
 */
export class ModelCatalog {
  private readonly config: Pick<Config, 'groq' | 'chat'>;
  private readonly secrets: SecretBox | null;
  private readonly cache: ReadThroughCache<ModelProvider[]>;
  /** Clients per configured provider version and retry policy: made once, reused by every answer. */
  private readonly clients = new Map<string, LlmProvider>();
  /** One WebSocket per websocket provider version, shared by its fail-fast and patient clients. */
  private readonly sockets = new Map<string, WebSocketConnection>();
  private readonly builtIn: { patient: LlmProvider; failFast: LlmProvider };

  constructor(deps: {
    config: Pick<Config, 'groq' | 'chat'>;
    /** Opens the stored API keys; without it (tests of the built-in path) none is sent. */
    secrets?: SecretBox;
    /** Copies are kept this long at most (a lost announcement); 0: read on every call (the edge). */
    maxAgeMs?: number;
    /** Stands in for the built-in Groq/offline provider (tests that watch its calls). */
    builtIn?: LlmProvider;
  }) {
    this.config = deps.config;
    this.secrets = deps.secrets ?? null;
    this.cache = new ReadThroughCache({ maxAgeMs: deps.maxAgeMs ?? 60_000 });
    this.builtIn = deps.builtIn
      ? { patient: deps.builtIn, failFast: deps.builtIn }
      : {
          patient: createLlmProvider(deps.config),
          failFast: createLlmProvider({ groq: { ...deps.config.groq, maxRetries: 0 } }),
        };
  }

  /** The models users may pick (enabled ones), the default marked. */
  async list(em: EntityManager, defaultModel: string): Promise<ModelEntry[]> {
    const providers = await this.providers(em);
    const configured = providers.flatMap((provider) =>
      provider.models
        .filter((model) => model.enabled)
        .map(
          (model): ModelEntry => ({
            ref: configuredRef(provider.name, model.id),
            modelId: model.id,
            name: model.name,
            provider: provider.name,
            contextTokens: model.contextTokens,
            tokenizer: model.tokenizer,
            supportsTools: model.supportsTools,
            fallbacks: model.fallbacks,
            isDefault: false,
          }),
        ),
    );
    const defaultRef = configured.some((model) => model.ref === defaultModel)
      ? defaultModel
      : this.builtInDefault(defaultModel);
    const entries = [...this.builtInModels(defaultModel), ...configured];
    return entries.map((entry) => ({ ...entry, isDefault: entry.ref === defaultRef }));
  }

  /** The model a conversation may use, or null when it is unknown or disabled. */
  async find(em: EntityManager, ref: string, defaultModel: string): Promise<ModelEntry | null> {
    return (await this.list(em, defaultModel)).find((entry) => entry.ref === ref) ?? null;
  }

  /**
   * The chain an answer uses: the conversation's model (the default when it has none, or when
   * its model is gone or disabled since), then that model's fallbacks that are still there.
   */
  async chainFor(
    em: EntityManager,
    conversationModel: string | null,
    defaultModel: string,
    onFallback: (from: ChainStep, to: ChainStep, error: LlmError) => void,
  ): Promise<ModelChain> {
    const entries = await this.list(em, defaultModel);
    const byRef = new Map(entries.map((entry) => [entry.ref, entry]));
    const first =
      (conversationModel && byRef.get(conversationModel)) || entries.find((entry) => entry.isDefault)!;
    const models = [first];
    for (const ref of first.fallbacks) {
      const fallback = byRef.get(ref);
      if (fallback && !models.includes(fallback) && models.length <= MAX_FALLBACKS) models.push(fallback);
    }
    const providers = await this.providers(em);
    const steps = models.map((model, index) => ({
      ref: model.ref,
      modelId: model.modelId,
      provider: this.client(model, providers, index < models.length - 1),
    }));
    const contextTokens = Math.min(
      this.config.chat.contextTokens,
      ...models.map((model) =>
        model.tokenizer === 'llama3'
          ? model.contextTokens
          : Math.floor(model.contextTokens * (1 - APPROXIMATE_MARGIN)),
      ),
    );
    return {
      chain: new FallbackChain(steps, onFallback),
      contextTokens,
      supportsTools: models.every((model) => model.supportsTools),
      redactor: this.keys(providers),
    };
  }

  /** Reads the configured providers now (if not cached), alongside a task's other first reads. */
  async prefetch(em: EntityManager): Promise<void> {
    await this.providers(em);
  }

  /** Forgets the configured providers: the next read goes to the database. */
  invalidate(): void {
    this.cache.invalidate();
  }

  /** Drops the copy whenever settings or providers change (announced on the settings channel). */
  listen(subscriber: Redis, prefix: string, logger: Logger): void {
    void listenForAnnouncements(subscriber, settingsChannel(prefix), 'provider', logger, () =>
      this.invalidate(),
    );
  }

  private builtInDefault(defaultModel: string): string {
    return this.config.groq.apiKey ? defaultModel : OFFLINE_MODEL;
  }

  private builtInModels(defaultModel: string): ModelEntry[] {
    const { contextTokens } = this.config.chat;
    if (!this.config.groq.apiKey) {
      return [
        {
          ref: OFFLINE_MODEL,
          modelId: OFFLINE_MODEL,
          name: 'Offline (no model configured)',
          provider: OFFLINE_PROVIDER,
          contextTokens,
          tokenizer: 'llama3',
          supportsTools: false,
          fallbacks: [],
          isDefault: false,
        },
      ];
    }
    // The admin's setting may name a configured model (`provider:model`): then it is not Groq's.
    const groqIds = [...new Set([defaultModel, ...this.config.groq.models])].filter(
      (id) => !id.includes(':'),
    );
    return groqIds.map((id) => ({
      ref: id,
      modelId: id,
      name: id,
      provider: BUILT_IN_PROVIDER,
      contextTokens,
      tokenizer: 'llama3',
      supportsTools: true,
      fallbacks: this.config.groq.fallbacks.filter((ref) => ref !== id),
      isDefault: false,
    }));
  }

  private client(model: ModelEntry, providers: ModelProvider[], failFast: boolean): LlmProvider {
    const provider = providers.find((candidate) => candidate.name === model.provider);
    if (!provider) return failFast ? this.builtIn.failFast : this.builtIn.patient;
    const version = `${provider.id}:${provider.updatedAt.getTime()}:`;
    const key = `${version}${failFast}`;
    let client = this.clients.get(key);
    if (!client) {
      // Clients of an older version of this provider (another URL or key) are of no more use.
      for (const old of this.clients.keys())
        if (old.startsWith(`${provider.id}:`) && !old.startsWith(version)) this.clients.delete(old);
      for (const [old, socket] of this.sockets)
        if (old.startsWith(`${provider.id}:`) && old !== version) {
          socket.close();
          this.sockets.delete(old);
        }
      client =
        provider.kind === 'websocket'
          ? new WebSocketProvider({
              connection: this.socketFor(provider, version),
              timeoutMs: provider.timeoutMs,
              fieldMap: provider.fieldMap,
            })
          : new OpenAiCompatibleProvider({
              baseURL: provider.baseUrl,
              apiKey: this.apiKeyOf(provider),
              timeoutMs: provider.timeoutMs,
              maxRetries: failFast ? 0 : 2,
            });
      this.clients.set(key, client);
    }
    return client;
  }

  /**
   * The provider version's one connection. Connecting is retried (with backoff) twice: a model
   * with a fallback after it waits ~0.6 s more before it falls back, which a restarting service
   * is worth.
   */
  private socketFor(provider: ModelProvider, version: string): WebSocketConnection {
    let socket = this.sockets.get(version);
    if (!socket) {
      socket = new WebSocketConnection({
        url: provider.baseUrl,
        apiKey: this.apiKeyOf(provider),
        connectTimeoutMs: Math.min(provider.timeoutMs, 10_000),
        connectRetries: 2,
      });
      this.sockets.set(version, socket);
    }
    return socket;
  }

  /** Closes the WebSocket providers' connections (the process is stopping). */
  async close(): Promise<void> {
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
    this.clients.clear();
  }

  /** Every key Parley sends to a model service: none may come back through a tool. */
  private keys(providers: ModelProvider[]): Redactor {
    return Redactor.of([this.config.groq.apiKey, ...providers.map((provider) => this.apiKeyOf(provider))]);
  }

  /** The provider's key, or none when it can't be opened (the secret changed): it answers 401 until set again. */
  private apiKeyOf(provider: ModelProvider): string | null {
    if (!provider.apiKeySealed || !this.secrets) return null;
    try {
      return this.secrets.open(provider.apiKeySealed, apiKeySealContext(provider.id));
    } catch (error) {
      if (error instanceof UnreadableSecretError) return null;
      throw error;
    }
  }

  private providers(em: EntityManager): Promise<ModelProvider[]> {
    return this.cache.get(PROVIDERS_KEY, () =>
      em.fork().find(ModelProvider, {}, { orderBy: { name: 'asc' } }),
    );
  }
}
