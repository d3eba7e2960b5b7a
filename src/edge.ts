import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readiness } from './health/Readiness.ts';
import { createApp } from './http/app.ts';
import { createRealtimeServer, type RealtimeServer } from './realtime/server.ts';
import type { Runtime } from './runtime.ts';

export interface Edge {
  server: Server;
  io: RealtimeServer;
  port: number;
}

/** The edge: Koa and Socket.IO on one HTTP server, listening on the configured port. */
export async function startEdge(runtime: Runtime): Promise<Edge> {
  const { config, logger, orm, redis, queues, shutdown } = runtime;
  const readiness = new Readiness({ orm, redis: redis.create('command', 'health'), queues });
  const app = await createApp({ logger, readiness, queues, adminPassword: config.admin.password });
  const server = createServer(app.callback());
  const io = createRealtimeServer(server, { redis, queues, logger, corsOrigins: config.http.corsOrigins });

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
