import Router from '@koa/router';
import { User } from '../../../db/entities/User.ts';
import { deleteUserChunks } from '../../../documents/chunkDeletion.ts';
import { notFound } from '../../../errors/AppError.ts';
import { readLastRun } from '../../../maintenance/MaintenanceReport.ts';
import { authorizeAdmin, authorizeManageUser } from '../../../policies/users.ts';
import { presentUser } from '../../../presenters/user.ts';
import { isSettingKey, readSettings, writeSetting } from '../../../settings/RuntimeSettings.ts';
import { publishSettingsChanged } from '../../../settings/SettingsCache.ts';
import type { EdgeServices } from '../../EdgeServices.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { jsonBody } from '../../middleware/jsonBody.ts';
import { toPage } from '../../pagination.ts';
import type { AppState } from '../../state.ts';
import { parseBody, parseParams, parseQuery } from '../../validation.ts';
import {
  listUsersQuery,
  settingBodySchema,
  settingParams,
  updateUserSchema,
  userIdParams,
} from './schema.ts';

/** User management and runtime settings under /api/v1/admin; administrators only. */
export function adminRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens, refreshTokens, config } = services;
  const router = new Router<AppState>({ prefix: '/admin' });
  const body = jsonBody(config.http.maxJsonBytes);
  // Made with the routes, so it is connected by the time an admin changes a setting.
  const settingsAnnouncer = services.redis.create('command', 'settings-announcer');
  router.use(authenticate(orm, accessTokens), async (ctx, next) => {
    authorizeAdmin(ctx.state.user);
    await next();
  });

  router.get('/users', async (ctx) => {
    const { limit, cursor, q } = parseQuery(ctx, listUsersQuery);
    const pattern = q ? `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
    const rows = await orm.em.find(
      User,
      {
        ...(cursor ? { id: { $lt: cursor } } : {}),
        ...(pattern ? { $or: [{ email: { $ilike: pattern } }, { name: { $ilike: pattern } }] } : {}),
      },
      { orderBy: { id: 'desc' }, limit: limit + 1 },
    );
    ctx.body = toPage(rows, limit, presentUser);
  });

  router.patch('/users/:id', body, async (ctx) => {
    const { id } = parseParams(ctx, userIdParams);
    const input = parseBody(ctx, updateUserSchema);
    const em = orm.em.fork();
    const target = await em.findOne(User, { id });
    if (!target) throw notFound('user');
    if (input.role !== undefined || input.disabled !== undefined) authorizeManageUser(ctx.state.user, target);
    if (input.name !== undefined) target.name = input.name;
    if (input.role !== undefined) target.role = input.role;
    if (input.disabled !== undefined) {
      target.disabledAt = input.disabled ? (target.disabledAt ?? new Date()) : null;
      // A disabled account loses its sessions now, not when its refresh tokens expire.
      if (input.disabled) await refreshTokens.revokeAllOf(em, target.id);
    }
    await em.flush();
    // Its open sockets go too, after the flush: a reconnect is then refused by the handshake.
    if (input.disabled) services.presence.disconnect(target.id);
    ctx.body = presentUser(target);
  });

  router.delete('/users/:id', async (ctx) => {
    const { id } = parseParams(ctx, userIdParams);
    const em = orm.em.fork();
    const target = await em.findOne(User, { id });
    if (!target) throw notFound('user');
    authorizeManageUser(ctx.state.user, target);
    // The chunks go first, in short batches (with the user's own vector index); foreign keys
    // cascade the rest: conversations, messages, documents and tokens go with the user.
    await deleteUserChunks(em, id);
    await em.nativeDelete(User, { id });
    services.presence.disconnect(id);
    ctx.status = 204;
  });

  router.get('/maintenance', async (ctx) => {
    ctx.body = { lastRun: await readLastRun(orm.em) };
  });

  router.post('/maintenance/run', async (ctx) => {
    const job = await services.queues.add('maintenance', 'maintenance-run', { trigger: 'admin' });
    ctx.status = 202;
    ctx.body = { jobId: job.id };
  });

  router.get('/settings', async (ctx) => {
    ctx.body = await readSettings(orm.em, config);
  });

  router.put('/settings/:key', body, async (ctx) => {
    const { key } = parseParams(ctx, settingParams);
    if (!isSettingKey(key)) throw notFound('setting');
    const { value } = parseBody(ctx, settingBodySchema(key));
    await writeSetting(orm.em, key, value as never);
    // Workers keep the settings in memory (SettingsCache): tell them to read them again. If the
    // announcement is lost, their copy still expires (SETTINGS_MAX_AGE_MS).
    await publishSettingsChanged(settingsAnnouncer, config.redis.queuePrefix).catch((error: Error) =>
      services.logger.warn({ err: error.message, key }, 'settings change not announced'),
    );
    ctx.body = await readSettings(orm.em, config);
  });

  return router;
}
