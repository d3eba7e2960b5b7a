import Router from '@koa/router';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { apiKeySealContext, ModelProvider } from '../../../db/entities/ModelProvider.ts';
import { newId } from '../../../db/ids.ts';
import { conflict, notFound, unknownFallbacks } from '../../../errors/AppError.ts';
import { fallbackTargets, type ProviderDraft, unknownFallbacksOf } from '../../../llm/fallbackTargets.ts';
import { BUILT_IN_PROVIDER, OFFLINE_PROVIDER } from '../../../llm/ModelCatalog.ts';
import { authorizeAdmin } from '../../../policies/users.ts';
import { presentModel, presentProvider } from '../../../presenters/model.ts';
import { publishSettingsChanged } from '../../../settings/SettingsCache.ts';
import type { EdgeServices } from '../../EdgeServices.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { jsonBody } from '../../middleware/jsonBody.ts';
import { validationFailed } from '../../problem.ts';
import type { AppState } from '../../state.ts';
import { parseBody, parseParams } from '../../validation.ts';
import { createProviderSchema, kindIssues, providerParams, updateProviderSchema } from './providerSchema.ts';

/**
 * Model providers admins configure (OpenAI-compatible endpoints, custom WebSocket services, and
 * their models) under
 * /api/v1/admin/providers. The API key is write-only: sealed before it is stored, never
 * returned (`hasApiKey` says whether there is one). Every change is announced on the settings
 * channel, so running workers read the providers again (ModelCatalog).
 */
export function providerRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens, config, secrets } = services;
  const router = new Router<AppState>({ prefix: '/admin/providers' });
  const body = jsonBody(config.http.maxJsonBytes);
  const announcer = services.redis.create('command', 'providers-announcer');
  router.use(authenticate(orm, accessTokens), async (ctx, next) => {
    authorizeAdmin(ctx.state.user);
    await next();
  });

  const announce = () =>
    publishSettingsChanged(announcer, config.redis.queuePrefix).catch((error: Error) =>
      services.logger.warn({ err: error.message }, 'provider change not announced'),
    );
  /** A second provider with the same name is a conflict, not a server error. */
  const flushUnique = async (flush: () => Promise<void>) => {
    try {
      await flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException)
        throw conflict('A provider with this name exists already.');
      throw error;
    }
  };

  /** The ids fallbacks may name now (GET /models). */
  const targets = async () => fallbackTargets(await services.models.list(orm.em.fork()));
  /** Refuses (422) fallbacks that name no model of GET /models as it will be after the write. */
  const checkFallbacks = async (draft: ProviderDraft) => {
    const known = fallbackTargets(await services.models.list(orm.em.fork()), draft);
    const unknown = unknownFallbacksOf(draft.models, known, draft.stored);
    if (unknown.length > 0) throw unknownFallbacks(unknown);
  };

  router.get('/', async (ctx) => {
    const em = orm.em.fork();
    const [providers, models] = await Promise.all([
      em.find(ModelProvider, {}, { orderBy: { name: 'asc' } }),
      services.models.list(orm.em.fork()),
    ]);
    const known = fallbackTargets(models);
    // The environment's Groq provider (or the offline stand-in), shown but not editable here.
    const builtIn = models.filter(
      (model) => model.provider === BUILT_IN_PROVIDER || model.provider === OFFLINE_PROVIDER,
    );
    ctx.body = {
      items: providers.map((provider) => presentProvider(provider, known)),
      builtIn: {
        name: builtIn[0]?.provider ?? BUILT_IN_PROVIDER,
        readOnly: true,
        hasApiKey: Boolean(config.groq.apiKey),
        models: builtIn.map(presentModel),
      },
    };
  });

  router.post('/', body, async (ctx) => {
    const input = parseBody(ctx, createProviderSchema);
    await checkFallbacks({ previousName: null, name: input.name, models: input.models });
    const em = orm.em.fork();
    const id = newId();
    const provider = em.create(ModelProvider, {
      id,
      name: input.name,
      kind: input.kind,
      baseUrl: input.baseUrl,
      apiKeySealed: input.apiKey ? secrets.seal(input.apiKey, apiKeySealContext(id)) : null,
      timeoutMs: input.timeoutMs,
      fieldMap: input.fieldMap ?? null,
      models: input.models,
    });
    await flushUnique(() => em.flush());
    await announce();
    ctx.status = 201;
    ctx.body = presentProvider(provider, await targets());
  });

  router.get('/:id', async (ctx) => {
    const { id } = parseParams(ctx, providerParams);
    const provider = await orm.em.fork().findOne(ModelProvider, { id });
    if (!provider) throw notFound('provider');
    ctx.body = presentProvider(provider, await targets());
  });

  router.patch('/:id', body, async (ctx) => {
    const { id } = parseParams(ctx, providerParams);
    const input = parseBody(ctx, updateProviderSchema);
    const em = orm.em.fork();
    const provider = await em.findOne(ModelProvider, { id });
    if (!provider) throw notFound('provider');
    const issues = kindIssues(provider.kind, input);
    if (issues.length > 0)
      throw validationFailed(
        issues.map((issue) => ({ path: ['body', ...issue.path].join('.'), message: issue.message })),
      );
    // Only fallbacks the new list adds are checked: those a model had already stay (dangling
    // ones are shown in the listing, not refused), and other changes add none.
    if (input.models !== undefined)
      await checkFallbacks({
        previousName: provider.name,
        name: input.name ?? provider.name,
        models: input.models,
        stored: provider.models,
      });
    if (input.name !== undefined) provider.name = input.name;
    if (input.fieldMap !== undefined) provider.fieldMap = input.fieldMap;
    if (input.baseUrl !== undefined) provider.baseUrl = input.baseUrl;
    if (input.timeoutMs !== undefined) provider.timeoutMs = input.timeoutMs;
    if (input.models !== undefined) provider.models = input.models;
    if (input.apiKey !== undefined)
      provider.apiKeySealed = input.apiKey
        ? secrets.seal(input.apiKey, apiKeySealContext(provider.id))
        : null;
    // A new version even when only the key changed: workers make new clients by version.
    provider.updatedAt = new Date();
    await flushUnique(() => em.flush());
    await announce();
    ctx.body = presentProvider(provider, await targets());
  });

  router.delete('/:id', async (ctx) => {
    const { id } = parseParams(ctx, providerParams);
    const deleted = await orm.em.fork().nativeDelete(ModelProvider, { id });
    if (deleted === 0) throw notFound('provider');
    await announce();
    ctx.status = 204;
  });

  return router;
}
