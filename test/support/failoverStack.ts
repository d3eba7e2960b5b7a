import { ApiClient, type Session } from './ApiClient.ts';
import { ChildService } from './ChildService.ts';
import { GroqStub } from './GroqStub.ts';
import { PrivateCluster } from './privateCluster.ts';
import { createTestDatabase, TEST_JWT_SECRET, uniqueQueuePrefix } from './services.ts';

/** Polls `probe` until it returns true: readiness and the cluster's map have no event to wait on. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

export interface FailoverStack {
  /** A cluster of the test's own: the test kills its masters. */
  cluster: PrivateCluster;
  stub: GroqStub;
  worker: ChildService;
  edge: ChildService;
  api: ApiClient;
  alice: Session;
  /** The queues' namespace: BullMQ's keys all carry the hash tag `{prefix}`. */
  prefix: string;
  /** Whether the edge answers /health/ready with 200. */
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * A private Redis Cluster with a chat worker and an edge in their own processes on it, a Groq
 * stub slow enough that answers are still streaming when a master dies, and a signed-up user.
 */
export async function startFailoverStack(label: string): Promise<FailoverStack> {
  const cluster = await PrivateCluster.start();
  const stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 25, answerTokens: 150 });
  const prefix = uniqueQueuePrefix(label);
  const env = {
    DATABASE_URL: await createTestDatabase(label),
    REDIS_CLUSTER_NODES: cluster.nodeList,
    QUEUE_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    STREAM_FLUSH_MS: '20',
    RATE_LIMIT_MESSAGES: '10000/1m',
  };
  const worker = await ChildService.start(
    'workers/index.ts',
    {
      ...env,
      WORKER_QUEUES: 'chat',
      GROQ_API_KEY: 'test-key',
      GROQ_BASE_URL: stub.baseURL,
      GROQ_MAX_RETRIES: '1',
    },
    'workers started',
  );
  const started = await ChildService.startEdge(env);
  const api = new ApiClient(started.url);
  const alice = await api.signup('alice');
  return {
    cluster,
    stub,
    worker,
    edge: started.edge,
    api,
    alice,
    prefix,
    ready: async () => (await api.request('GET', '/health/ready')).status === 200,
    stop: async () => {
      await Promise.all([started.edge, worker].map((service) => service.stop()));
      await stub.close();
      await cluster.stop();
    },
  };
}
