import Router from '@koa/router';
import { readSetting } from '../../settings/RuntimeSettings.ts';
import type { EdgeServices } from '../EdgeServices.ts';
import { authenticate } from '../middleware/authenticate.ts';
import type { AppState } from '../state.ts';

/** GET /api/v1/prompt-suggestions: what an empty conversation offers (admins set them). */
export function promptSuggestionRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens, config } = services;
  const router = new Router<AppState>();
  router.get('/prompt-suggestions', authenticate(orm, accessTokens), async (ctx) => {
    ctx.body = { suggestions: await readSetting(orm.em, config, 'promptSuggestions') };
  });
  return router;
}
