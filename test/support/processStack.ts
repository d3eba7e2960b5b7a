import { ChildService } from './ChildService.ts';
import { createTestDatabase, TEST_JWT_SECRET, TEST_REDIS_ENV, uniqueQueuePrefix } from './services.ts';

export interface ProcessStack {
  /** What both processes were started with (database, Redis, queue prefix, secret, extras). */
  env: Record<string, string>;
  worker: ChildService;
  edge: ChildService;
  url: string;
  stop: () => Promise<void>;
}

/**
 * A worker and an edge as real processes on a database and queue prefix of their own, so a
 * crash shows up as an exit. The worker starts first and migrates, so the two don't race to
 * create the schema. `env.DATABASE_URL` replaces the fresh database (e.g. a private Postgres).
 */
export async function startProcessStack(
  label: string,
  options: { env?: Record<string, string>; workerEnv?: Record<string, string> } = {},
): Promise<ProcessStack> {
  const env = {
    DATABASE_URL: options.env?.DATABASE_URL ?? (await createTestDatabase(label)),
    ...TEST_REDIS_ENV,
    QUEUE_PREFIX: uniqueQueuePrefix(label),
    JWT_SECRET: TEST_JWT_SECRET,
    ...options.env,
  };
  const worker = await ChildService.start(
    'workers/index.ts',
    { WORKER_QUEUES: 'maintenance', ...env, ...options.workerEnv },
    'workers started',
  );
  const { edge, url } = await ChildService.startEdge(env);
  return { env, worker, edge, url, stop: async () => void (await Promise.all([edge.stop(), worker.stop()])) };
}
