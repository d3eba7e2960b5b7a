import type Koa from 'koa';
import { startEdge } from '../../src/compose/edge.ts';
import { openRuntime, type Runtime } from '../../src/compose/runtime.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { TEST_EMBEDDING_ENV, TEST_JWT_SECRET } from './services.ts';

export interface TestEdge {
  url: string;
  app: Koa;
  runtime: Runtime;
  stop: () => Promise<void>;
}

/** A real edge on an ephemeral port inside the test process, on the given settings (and logger). */
export async function startInProcessEdge(
  env: Record<string, string>,
  options: { logger?: Logger } = {},
): Promise<TestEdge> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    // Tests sign up many accounts from one address; the rate-limit test sets its own limit.
    RATE_LIMIT_AUTH: '10000/1m',
    ...TEST_EMBEDDING_ENV,
    ...env,
  });
  const logger = options.logger ?? createLogger(config.logLevel);
  const runtime = await openRuntime(config, logger);
  const edge = await startEdge(runtime);
  return {
    url: `http://127.0.0.1:${edge.port}`,
    app: edge.app,
    runtime,
    stop: () => runtime.shutdown.run('test finished'),
  };
}
