import { AccessTokens } from '../auth/AccessTokens.ts';
import { resolveJwtSecret } from '../auth/jwtSecret.ts';
import type { Config } from '../config.ts';
import { EMBEDDING_DIMENSIONS } from '../db/columns.ts';
import { type Orm, openDatabase } from '../db/orm.ts';
import type { Embedder } from '../embeddings/Embedder.ts';
import { EmbedderHealth } from '../embeddings/EmbedderHealth.ts';
import { createEmbedder } from '../embeddings/EmbedderPool.ts';
import type { Logger } from '../logger.ts';
import { Metrics } from '../metrics/Metrics.ts';
import { Shutdown } from '../process/Shutdown.ts';
import { Queues } from '../queues/Queues.ts';
import { RedisConnections } from '../redis/connections.ts';
import { SecretBox } from '../secrets/SecretBox.ts';

/** What edge and workers share in one process: settings, logs, the database, Redis and the queues. */
export interface Runtime {
  config: Config;
  logger: Logger;
  orm: Orm;
  redis: RedisConnections;
  queues: Queues;
  /** Signs and verifies access (and single-purpose) tokens; workers sign verification links. */
  accessTokens: AccessTokens;
  /** Seals stored third-party secrets: providers' API keys, MCP headers (SECRETS_KEY, else the JWT secret). */
  secrets: SecretBox;
  metrics: Metrics;
  /** Local embeddings on worker threads; the model loads when first needed (see embedderHealth). */
  embedder: Embedder;
  embedderHealth: EmbedderHealth;
  shutdown: Shutdown;
}

export async function openRuntime(
  config: Config,
  logger: Logger,
  shutdown = new Shutdown(logger),
): Promise<Runtime> {
  const orm = await openDatabase(config, logger);
  shutdown.add('connections', 'database', () => orm.close());
  const redis = new RedisConnections(config.redis, logger);
  const queues = new Queues(redis, config.redis.queuePrefix);
  shutdown.add('connections', 'queues and redis', async () => {
    await queues.close();
    await redis.closeAll();
  });
  const jwtSecret = await resolveJwtSecret(config);
  const accessTokens = new AccessTokens(jwtSecret, config.auth.accessTokenTtlSeconds);
  const secrets = new SecretBox(config.auth.secretsKey ?? jwtSecret);
  const embedder = createEmbedder(config, logger);
  shutdown.add('connections', 'embedder', () => embedder.close());
  const embedderHealth = new EmbedderHealth(embedder, {
    configured: config.embeddings.dimensions,
    schema: EMBEDDING_DIMENSIONS,
  });
  return {
    config,
    logger,
    orm,
    redis,
    queues,
    accessTokens,
    secrets,
    metrics: new Metrics(),
    embedder,
    embedderHealth,
    shutdown,
  };
}
