import Router from '@koa/router';
import { presentModel } from '../../presenters/model.ts';
import type { EdgeServices } from '../EdgeServices.ts';
import { authenticate } from '../middleware/authenticate.ts';
import type { AppState } from '../state.ts';

/** GET /api/v1/models: the models a user may pick for a conversation, the default marked. */
export function modelRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens } = services;
  const router = new Router<AppState>();
  router.get('/models', authenticate(orm, accessTokens), async (ctx) => {
    ctx.body = { items: (await services.models.list(orm.em.fork())).map(presentModel) };
  });
  return router;
}
