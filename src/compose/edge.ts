import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { ensureAdminAccount } from '../auth/adminAccount.ts';
import { RefreshTokens } from '../auth/RefreshTokens.ts';
import { ChatService } from '../chat/ChatService.ts';
import { ModelChoice } from '../chat/ModelChoice.ts';
import { DocumentLibrary } from '../documents/DocumentLibrary.ts';
import { environmentSecrets, knownSecrets } from '../health/knownSecrets.ts';
import { LlmHealth } from '../health/LlmHealth.ts';
import { McpHealth } from '../health/McpHealth.ts';
import { Readiness } from '../health/Readiness.ts';
import { createApp } from '../http/app.ts';
import type { EdgeServices } from '../http/EdgeServices.ts';
import { refuseOtherTransportMethods } from '../http/socketIoMethods.ts';
import { createLlmProvider } from '../llm/createLlmProvider.ts';
import { ModelCatalog } from '../llm/ModelCatalog.ts';
import { McpServerRegistry } from '../mcp/McpServerRegistry.ts';
import { watchQueueGauges } from '../metrics/queueGauges.ts';
import { FetchHeartbeats } from '../queues/FetchHeartbeats.ts';
import { LoginThrottle } from '../rateLimit/LoginThrottle.ts';
import { RateLimiter } from '../rateLimit/RateLimiter.ts';
import { Presence } from '../realtime/Presence.ts';
import { createRealtimeServer } from '../realtime/server.ts';
import { countSockets } from '../realtime/socketGauge.ts';
import type { RealtimeServer } from '../realtime/types.ts';
import { HistorySearch } from '../retrieval/HistorySearch.ts';
import { createLifecycle, createRelay } from './relay.ts';
import type { Runtime } from './runtime.ts';

/** How long a request that ends an answer waits for the relay's Redis to take the end. */
const EDGE_FINISH_WAIT_MS = 500;

export interface Edge {
  app: Koa;
  server: Server;
  io: RealtimeServer;
  port: number;
}

/** The edge: Koa and Socket.IO on one HTTP server, listening on the configured port. */
export async function startEdge(runtime: Runtime): Promise<Edge> {
  const { config, logger, orm, redis, queues, accessTokens, shutdown } = runtime;
  await ensureAdminAccount(orm.em.fork(), config.admin);
  // Search embeds its query on the embedder's thread; load and check the model before serving.
  await runtime.embedderHealth.startUp(logger);

  const commands = redis.create('command', 'edge');
  const limiter = new RateLimiter(commands, config.redis.queuePrefix, logger);
  // Answers the edge ends itself (cancelled while queued, not enqueued) publish on a pub/sub
  // connection; replays are read on the fail-fast command connection.
  const relay = createRelay(runtime, redis.create('pubsub', 'edge-relay'), {
    read: commands,
    // The edge ends only answers that never started, inside a request: it must not wait out a
    // Redis failover (the relay connection queues meanwhile); the end is sent when it's back.
    finishWaitMs: EDGE_FINISH_WAIT_MS,
  });
  // The edge reads the configured providers per request (a small table): always current.
  const models = new ModelChoice({
    models: new ModelCatalog({ config, secrets: runtime.secrets, maxAgeMs: 0 }),
    config,
  });
  const chat = new ChatService({
    orm,
    models,
    queues,
    redis: commands,
    logger,
    publisherFor: relay.publisherFor,
    lifecycle: createLifecycle(orm, relay, logger),
  });
  const { replay } = relay;
  const io = createRealtimeServer({
    chat: { orm, chat, replay },
    redis,
    queues,
    logger,
    accessTokens,
    limiter,
    messageLimit: config.rateLimits.messages,
    corsOrigins: config.http.corsOrigins,
    trustProxy: config.http.trustProxy,
  });
  const { secrets } = runtime;
  const mcpHealth = new McpHealth({ orm, box: secrets });
  const mcpServers = new McpServerRegistry({
    box: secrets,
    announcer: commands,
    prefix: config.redis.queuePrefix,
    logger,
    onProbed: (server, result) => mcpHealth.record(server, result),
  });
  const services: EdgeServices = {
    config,
    logger,
    orm,
    queues,
    accessTokens,
    refreshTokens: new RefreshTokens(config.auth.refreshTokenTtlDays * 24 * 3_600),
    limiter,
    loginThrottle: new LoginThrottle({
      redis: commands,
      prefix: config.redis.queuePrefix,
      rules: config.loginFailures,
      logger,
    }),
    presence: new Presence(io),
    metrics: runtime.metrics,
    chat,
    replay,
    redis,
    documents: new DocumentLibrary({ orm, queues, redis: commands, logger }),
    history: new HistorySearch(runtime.embedder, logger, config.retrieval.minSimilarity),
    embedder: runtime.embedderHealth,
    mcpServers,
    models,
    secrets: runtime.secrets,
  };
  const app = await createApp(
    services,
    new Readiness({
      orm,
      redis: commands,
      queues,
      embedder: runtime.embedderHealth,
      llm: new LlmHealth(createLlmProvider(config)),
      mcp: mcpHealth,
      secrets: () => knownSecrets(orm.em.fork(), secrets, config.groq.apiKey),
      fallbackSecrets: environmentSecrets(config.groq.apiKey),
      heartbeats: new FetchHeartbeats(commands, queues.bullmqPrefix),
    }),
  );
  // Koa is the server's request listener before Socket.IO attaches: Socket.IO then answers its own
  // path (/socket.io/: engine.io sessions, the client bundle) and hands every other request to Koa.
  // Two listeners would both answer /socket.io/ and crash the process (ERR_HTTP_HEADERS_SENT).
  const server = createServer(app.callback());
  io.attach(server);
  io.engine.use(refuseOtherTransportMethods);
  countSockets(runtime.metrics, io);
  watchQueueGauges(runtime.metrics, queues);

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
  return { app, server, io, port };
}
