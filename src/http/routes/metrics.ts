import Router from '@koa/router';
import { unauthorized } from '../../errors/AppError.ts';
import type { Metrics } from '../../metrics/Metrics.ts';
import { bearerToken } from '../middleware/authenticate.ts';
import type { AppState } from '../state.ts';

/** GET /metrics in Prometheus text format; behind METRICS_TOKEN when one is set. */
export function metricsRoutes(metrics: Metrics, token: string | undefined): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/metrics', async (ctx) => {
    if (token && bearerToken(ctx) !== token)
      throw unauthorized('Send the metrics token: Authorization: Bearer <token>.');
    ctx.set('Content-Type', metrics.contentType);
    ctx.body = await metrics.exposition();
  });
  return router;
}
