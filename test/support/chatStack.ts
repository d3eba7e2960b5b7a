import type { WorkerOptions } from '../../src/compose/worker.ts';
import { startWorkers } from '../../workers/startWorkers.ts';
import { GroqStub, type StubOptions } from './GroqStub.ts';
import { startInProcessEdge, type TestEdge } from './inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_ENV, uniqueQueuePrefix } from './services.ts';

export interface ChatStack {
  stub: GroqStub;
  edge: TestEdge;
  /** Workers first (they finish their jobs), then the edge, then the stub. */
  stop: () => Promise<void>;
}

/**
 * A whole chat pipeline in the test process: a Groq stub, an edge on its own database and
 * queue prefix pointed at the stub, and in-process workers for all three queues.
 */
export async function startChatStack(
  label: string,
  stubOptions: Partial<StubOptions>,
  env: Record<string, string> = {},
  /** What the workers add to their tasks (e.g. a test's own tool source). */
  workerOptions: WorkerOptions = {},
): Promise<ChatStack> {
  const stub = await GroqStub.start(stubOptions);
  const edge = await startInProcessEdge({
    DATABASE_URL: await createTestDatabase(label),
    ...TEST_REDIS_ENV,
    QUEUE_PREFIX: uniqueQueuePrefix(label),
    GROQ_API_KEY: 'test-key',
    GROQ_BASE_URL: stub.baseURL,
    ...env,
  });
  const workers = await startWorkers(edge.runtime, ['chat', 'ingest', 'maintenance'], workerOptions);
  return {
    stub,
    edge,
    stop: async () => {
      await Promise.all(workers.map((worker) => worker.close()));
      await edge.stop();
      await stub.close();
    },
  };
}
