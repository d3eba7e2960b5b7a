import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import type { Readiness } from '../health/Readiness.ts';
import { BULL_BOARD_PATH, mountBullBoard } from './bullBoard.ts';
import type { EdgeServices } from './EdgeServices.ts';
import { httpMetrics } from './middleware/httpMetrics.ts';
import { ormContext } from './middleware/ormContext.ts';
import { problemResponses } from './middleware/problemResponses.ts';
import { requestId } from './middleware/requestId.ts';
import { requestLogger } from './middleware/requestLogger.ts';
import { securityHeaders } from './middleware/securityHeaders.ts';
import { mcpServerRoutes } from './routes/admin/mcpServers.ts';
import { providerRoutes } from './routes/admin/providers.ts';
import { adminRoutes } from './routes/admin/routes.ts';
import { authRoutes } from './routes/auth/routes.ts';
import { conversationRoutes } from './routes/conversations/routes.ts';
import { docsRoutes } from './routes/docs.ts';
import { documentRoutes } from './routes/documents/routes.ts';
import { healthRoutes } from './routes/health.ts';
import { messageRoutes } from './routes/messages/routes.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { modelRoutes } from './routes/models.ts';
import { presenceRoutes } from './routes/presence.ts';
import { promptSuggestionRoutes } from './routes/promptSuggestions.ts';
import { searchRoutes } from './routes/search/routes.ts';
import type { AppState } from './state.ts';
import { APP_CONTENT_SECURITY_POLICY, isAppPath } from './webApp/appPaths.ts';
import { serveWebApp } from './webApp/serveWebApp.ts';

export const API_PREFIX = '/api/v1';
const API_VERSION = '1.0.0';

export async function createApp(services: EdgeServices, readiness: Readiness): Promise<Koa<AppState>> {
  const { config, logger, orm } = services;
  const app = new Koa<AppState>({ proxy: config.http.trustProxy });
  // Errors are answered by problemResponses; Koa's default handler would log them a second time.
  app.silent = true;

  app.use(requestId());
  app.use(httpMetrics(services.metrics));
  app.use(requestLogger(logger));
  app.use(problemResponses());
  app.use(
    securityHeaders({
      allowPagesUnder: [BULL_BOARD_PATH, '/docs'],
      webApp: config.web.enabled ? { serves: isAppPath, policy: APP_CONTENT_SECURITY_POLICY } : undefined,
    }),
  );
  app.use(
    cors({
      // Only listed origins get CORS headers; an empty list means browsers elsewhere get none.
      origin: (ctx) => (config.http.corsOrigins.includes(ctx.get('origin')) ? ctx.get('origin') : ''),
      allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
      exposeHeaders: ['Retry-After', 'X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining'],
      maxAge: 600,
    }),
  );
  app.use(ormContext(orm));

  const health = healthRoutes(readiness, logger);
  app.use(health.routes());
  app.use(metricsRoutes(services.metrics, config.metrics.token).routes());
  app.use(docsRoutes(API_VERSION).routes());

  const api = new Router<AppState>({ prefix: API_PREFIX });
  for (const routes of [
    authRoutes(services),
    conversationRoutes(services),
    messageRoutes(services),
    documentRoutes(services),
    searchRoutes(services),
    presenceRoutes(services),
    promptSuggestionRoutes(services),
    modelRoutes(services),
    providerRoutes(services),
    adminRoutes(services),
    mcpServerRoutes(services),
  ]) {
    api.use(routes.routes(), routes.allowedMethods());
  }
  app.use(api.routes());
  app.use(api.allowedMethods());

  await mountBullBoard(app, services);
  // Last: only what no route above answered reaches the web app, and it never takes a system path.
  if (config.web.enabled) app.use(serveWebApp({ distDir: config.web.distDir, logger }));
  return app;
}
