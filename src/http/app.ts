import Koa from 'koa';
import type { Readiness } from '../health/Readiness.ts';
import type { Logger } from '../logger.ts';
import type { Queues } from '../queues/Queues.ts';
import { mountBullBoard } from './bullBoard.ts';
import { problemResponses } from './middleware/problemResponses.ts';
import { requestId } from './middleware/requestId.ts';
import { requestLogger } from './middleware/requestLogger.ts';
import { healthRoutes } from './routes/health.ts';

export interface AppDependencies {
  logger: Logger;
  readiness: Readiness;
  queues: Queues;
  adminPassword?: string;
  /** Behind a load balancer, trust X-Forwarded-* for the client address. */
  proxy?: boolean;
}

export async function createApp(deps: AppDependencies): Promise<Koa> {
  const app = new Koa({ proxy: deps.proxy ?? false });
  // Errors are answered by problemResponses; Koa's default handler would log them a second time.
  app.silent = true;

  app.use(requestId());
  app.use(requestLogger(deps.logger));
  app.use(problemResponses());

  const health = healthRoutes(deps.readiness);
  app.use(health.routes());
  app.use(health.allowedMethods());
  await mountBullBoard(app, deps.queues, deps.adminPassword);
  return app;
}
