import { openRuntime, type Runtime } from '../../src/compose/runtime.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import type { GroqStub } from './GroqStub.ts';
import {
  createTestDatabase,
  TEST_EMBEDDING_ENV,
  TEST_JWT_SECRET,
  TEST_REDIS_ENV,
  uniqueQueuePrefix,
} from './services.ts';

/**
 * What a worker process has (database, Redis, queues, the test embedding model), with the Groq
 * stub as the model, but no worker or edge: for tests that call tasks and domain code directly.
 * Stop it with `runtime.shutdown.run(...)`.
 */
export async function openTaskRuntime(label: string, stub: GroqStub): Promise<Runtime> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATABASE_URL: await createTestDatabase(label),
    ...TEST_REDIS_ENV,
    QUEUE_PREFIX: uniqueQueuePrefix(label),
    JWT_SECRET: TEST_JWT_SECRET,
    GROQ_API_KEY: 'test-key',
    GROQ_BASE_URL: stub.baseURL,
    GROQ_MAX_RETRIES: '0',
    ...TEST_EMBEDDING_ENV,
  });
  return openRuntime(config, createLogger('silent'));
}
