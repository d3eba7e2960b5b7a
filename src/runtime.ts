import { AccessTokens } from './auth/AccessTokens.ts';
import { resolveJwtSecret } from './auth/jwtSecret.ts';
import type { Config } from './config.ts';
import { type Orm, openDatabase } from './db/orm.ts';
import type { Logger } from './logger.ts';
import { Metrics } from './metrics/Metrics.ts';
import { Shutdown } from './process/Shutdown.ts';
import { Queues } from './queues/Queues.ts';
import { RedisConnections } from './queues/redisConnections.ts';

/** What edge and workers share in one process: settings, logs, the database, Redis and the queues. */
export interface Runtime {
  config: Config;
  logger: Logger;
  orm: Orm;
  redis: RedisConnections;
  queues: Queues;
  /** Signs and verifies access (and single-purpose) tokens; workers sign verification links. */
  accessTokens: AccessTokens;
  metrics: Metrics;
  shutdown: Shutdown;
}

export async function openRuntime(
  config: Config,
  logger: Logger,
  shutdown = new Shutdown(logger),
): Promise<Runtime> {
  const orm = await openDatabase(config, logger);
  shutdown.add('connections', 'database', () => orm.close());
  const redis = new RedisConnections(config.redis.url, logger);
  const queues = new Queues(redis, config.redis.queuePrefix);
  shutdown.add('connections', 'queues and redis', async () => {
    await queues.close();
    await redis.closeAll();
  });
  const accessTokens = new AccessTokens(await resolveJwtSecret(config), config.auth.accessTokenTtlSeconds);
  return { config, logger, orm, redis, queues, accessTokens, metrics: new Metrics(), shutdown };
}
