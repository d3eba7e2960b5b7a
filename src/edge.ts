import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureAdminAccount } from './auth/adminAccount.ts';
import { RefreshTokens } from './auth/RefreshTokens.ts';
import { Readiness } from './health/Readiness.ts';
import { createApp } from './http/app.ts';
import type { EdgeServices } from './http/EdgeServices.ts';
import { RateLimiter } from './rateLimit/RateLimiter.ts';
import { Presence } from './realtime/Presence.ts';
import { createRealtimeServer, type RealtimeServer } from './realtime/server.ts';
import type { Runtime } from './runtime.ts';

export interface Edge {
  server: Server;
  io: RealtimeServer;
  port: number;
}

/** The edge: Koa and Socket.IO on one HTTP server, listening on the configured port. */
export async function startEdge(runtime: Runtime): Promise<Edge> {
  const { config, logger, orm, redis, queues, accessTokens, shutdown } = runtime;
  await ensureAdminAccount(orm.em.fork(), config.admin);

  const commands = redis.create('command', 'edge');
  const limiter = new RateLimiter(commands, config.redis.queuePrefix, logger);
  const server = createServer();
  const io = createRealtimeServer(server, {
    redis,
    queues,
    logger,
    accessTokens,
    limiter,
    messageLimit: config.rateLimits.messages,
    corsOrigins: config.http.corsOrigins,
  });
  const services: EdgeServices = {
    config,
    logger,
    orm,
    queues,
    accessTokens,
    refreshTokens: new RefreshTokens(config.auth.refreshTokenTtlDays * 24 * 3_600),
    limiter,
    presence: new Presence(io),
  };
  const app = await createApp(services, new Readiness({ orm, redis: commands, queues }));
  server.on('request', app.callback());

  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(config.http.port, config.http.host, () => listening());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'edge listening');

  shutdown.add('intake', 'edge', async () => {
    // io.close() disconnects sockets and closes the HTTP server; idle keep-alives must go too.
    server.closeIdleConnections();
    await io.close();
  });
  return { server, io, port };
}
