import Router from '@koa/router';
import { z } from 'zod';
import { authorizeReadPresence } from '../../policies/users.ts';
import type { EdgeServices } from '../EdgeServices.ts';
import { authenticate } from '../middleware/authenticate.ts';
import type { AppState } from '../state.ts';
import { parseParams } from '../validation.ts';

export const presenceParams = z.object({ userId: z.uuid() });

/** GET /ws/users/:userId/status — the user's live connections on all edge nodes (self or admin). */
export function presenceRoutes({ orm, accessTokens, presence }: EdgeServices): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/ws/users/:userId/status', authenticate(orm, accessTokens), async (ctx) => {
    const { userId } = parseParams(ctx, presenceParams);
    authorizeReadPresence(ctx.state.user, userId);
    ctx.body = await presence.status(userId);
  });
  return router;
}
