import Router from '@koa/router';
import { authorizeAdmin } from '../../../policies/users.ts';
import { presentMcpServer } from '../../../presenters/mcpServer.ts';
import type { EdgeServices } from '../../EdgeServices.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { jsonBody } from '../../middleware/jsonBody.ts';
import { toPage } from '../../pagination.ts';
import type { AppState } from '../../state.ts';
import { parseBody, parseParams, parseQuery } from '../../validation.ts';
import {
  createMcpServerSchema,
  listMcpServersQuery,
  mcpServerIdParams,
  updateMcpServerSchema,
} from './mcpServersSchema.ts';

/**
 * MCP servers whose tools the model may call, under /api/v1/admin/mcp-servers; administrators
 * only. Headers are write-only: answers name them (`headerNames`), never show a value.
 */
export function mcpServerRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens, config, mcpServers } = services;
  const router = new Router<AppState>({ prefix: '/admin/mcp-servers' });
  const body = jsonBody(config.http.maxJsonBytes);
  router.use(authenticate(orm, accessTokens), async (ctx, next) => {
    authorizeAdmin(ctx.state.user);
    await next();
  });

  router.get('/', async (ctx) => {
    const { limit, cursor } = parseQuery(ctx, listMcpServersQuery);
    ctx.body = toPage(await mcpServers.list(orm.em.fork(), { limit, cursor }), limit, presentMcpServer);
  });

  router.post('/', body, async (ctx) => {
    const input = parseBody(ctx, createMcpServerSchema);
    const server = await mcpServers.create(orm.em.fork(), input);
    ctx.status = 201;
    ctx.body = presentMcpServer(server);
  });

  router.get('/:id', async (ctx) => {
    const { id } = parseParams(ctx, mcpServerIdParams);
    ctx.body = presentMcpServer(await mcpServers.get(orm.em.fork(), id));
  });

  router.patch('/:id', body, async (ctx) => {
    const { id } = parseParams(ctx, mcpServerIdParams);
    const input = parseBody(ctx, updateMcpServerSchema);
    ctx.body = presentMcpServer(await mcpServers.update(orm.em.fork(), id, input));
  });

  router.delete('/:id', async (ctx) => {
    const { id } = parseParams(ctx, mcpServerIdParams);
    await mcpServers.remove(orm.em.fork(), id);
    ctx.status = 204;
  });

  router.post('/:id/refresh', async (ctx) => {
    const { id } = parseParams(ctx, mcpServerIdParams);
    ctx.body = await mcpServers.refresh(orm.em.fork(), id);
  });

  return router;
}
