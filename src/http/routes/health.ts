import Router from '@koa/router';
import type { Readiness } from '../../health/Readiness.ts';
import { ReadinessTransitions } from '../../health/ReadinessTransitions.ts';
import type { Logger } from '../../logger.ts';
import type { AppState } from '../state.ts';

/**
 * Liveness answers while the process runs; readiness asks every dependency. A 503 of readiness
 * is its answer, not a failed request: only its changes are logged (ReadinessTransitions).
 */
export function healthRoutes(readiness: Readiness, logger: Logger): Router<AppState> {
  const router = new Router<AppState>();
  const transitions = new ReadinessTransitions(logger);
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/health/ready', async (ctx) => {
    const report = await readiness.report();
    transitions.observe(report);
    ctx.state.expectedFailure = true;
    ctx.status = report.status === 'ready' ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = report;
  });
  return router;
}
