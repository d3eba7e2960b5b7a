import Router from '@koa/router';
import type { Readiness } from '../../health/Readiness.ts';
import type { AppState } from '../state.ts';

/** Liveness answers while the process runs; readiness asks every dependency. */
export function healthRoutes(readiness: Readiness): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/health/ready', async (ctx) => {
    const report = await readiness.report();
    ctx.status = report.status === 'ready' ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = report;
  });
  return router;
}
