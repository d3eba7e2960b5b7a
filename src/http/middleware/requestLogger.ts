import type { Logger } from '../../logger.ts';
import type { AppMiddleware } from '../state.ts';

/** One structured line per request, with a child logger on ctx.state for the handlers. */
export const requestLogger =
  (logger: Logger): AppMiddleware =>
  async (ctx, next) => {
    const started = performance.now();
    ctx.state.log = logger.child({ requestId: ctx.state.requestId });
    try {
      await next();
    } finally {
      const line = {
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      };
      if (ctx.status >= 500 && !ctx.state.expectedFailure) ctx.state.log.error(line, 'request failed');
      else if (!ctx.path.startsWith('/health')) ctx.state.log.info(line, 'request');
    }
  };
