import type { Middleware } from 'koa';
import type { Metrics } from '../../metrics/Metrics.ts';

/** Times every request, labelled by the route pattern (not the raw path, which holds ids). */
export const httpMetrics =
  (metrics: Metrics): Middleware =>
  async (ctx, next) => {
    const stop = metrics.httpDuration.startTimer({ method: ctx.method });
    try {
      await next();
    } finally {
      const route =
        (ctx as { _matchedRoute?: string })._matchedRoute ??
        (ctx.state as { routeLabel?: string }).routeLabel ??
        (ctx.path.startsWith('/admin/queues') ? '/admin/queues' : 'unmatched');
      stop({ route: String(route), status: String(ctx.status) });
    }
  };
