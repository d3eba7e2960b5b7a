import Router from '@koa/router';
import type { EdgeServices } from '../../EdgeServices.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import type { AppState } from '../../state.ts';
import { parseQuery } from '../../validation.ts';
import { searchQuery } from './schema.ts';

/** GET /api/v1/search: hybrid search over the user's own finished messages. */
export function searchRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens, history } = services;
  const router = new Router<AppState>({ prefix: '/search' });
  router.use(authenticate(orm, accessTokens));

  router.get('/', async (ctx) => {
    const { q, limit } = parseQuery(ctx, searchQuery);
    const results = await history.search(orm.em, ctx.state.user.id, q, limit);
    ctx.body = {
      query: q,
      mode: results.mode,
      items: results.items.map((hit) => ({ ...hit, createdAt: hit.createdAt.toISOString() })),
    };
  });

  return router;
}
