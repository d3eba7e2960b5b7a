import { startWorkers } from '../workers/startWorkers.ts';
import { startEdge } from './compose/edge.ts';
import { openRuntime } from './compose/runtime.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { ensureLocalRedis } from './process/localRedis.ts';
import { runMain } from './process/runMain.ts';
import { Shutdown } from './process/Shutdown.ts';

/**
 * `npm start`: edge and every worker in one process, the way to try Parley out.
 * No DATABASE_URL → embedded PGlite under .data/; no Redis → a private redis-server.
 */
runMain(async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const shutdown = new Shutdown(logger);
  shutdown.exitOnSignals();

  // A cluster is never started here: REDIS_CLUSTER_NODES names one that runs already.
  const redis = config.redis.clusterNodes
    ? { url: config.redis.url ?? '', stop: async () => {} }
    : await ensureLocalRedis(config.redis.url, config.dataDir, logger);
  shutdown.add('services', 'private redis-server', redis.stop);
  const runtime = await openRuntime(
    { ...config, redis: { ...config.redis, url: redis.url } },
    logger,
    shutdown,
  );
  await startWorkers(runtime, config.workers.queues);
  await startEdge(runtime);
});
