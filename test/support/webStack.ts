import { randomBytes } from 'node:crypto';
import { ensureWebBuilt } from '../../scripts/buildWeb.ts';
import { ApiClient } from './ApiClient.ts';
import { ChildService } from './ChildService.ts';
import { GroqStub, type StubOptions } from './GroqStub.ts';
import { startInProcessEdge, type TestEdge } from './inProcessEdge.ts';
import { createTestDatabase, TEST_JWT_SECRET, TEST_REDIS_ENV, uniqueQueuePrefix } from './services.ts';
import { TcpProxy } from './TcpProxy.ts';

export interface Credentials {
  email: string;
  password: string;
}

/** One stored message as `GET /conversations/:id/messages` presents it. */
export interface StoredMessage {
  id: string;
  role: 'user' | 'assistant';
  status: string;
  content: string;
  model: string | null;
  citations: { n: number; filename: string; page?: number | null; snippet: string }[];
}

export interface WebStack {
  stub: GroqStub;
  /** The edge in this process: its runtime lets a test or bench seed data with the factories. */
  edge: TestEdge;
  worker: ChildService;
  /** What the browser talks to (`sever()` cuts it, `restore()` brings it back); `url` is its origin. */
  link: TcpProxy;
  url: string;
  /** HTTP straight to the edge, for what the test checks behind the page's back. */
  api: ApiClient;
  /** The account ADMIN_EMAIL / ADMIN_PASSWORD made an admin at the edge's start. */
  admin: Credentials;
  env: Record<string, string>;
  /** An access token for an account, from a login of its own (the browser's session is untouched). */
  tokenFor: (credentials: Credentials) => Promise<string>;
  storedMessages: (token: string, conversationId: string) => Promise<StoredMessage[]>;
  stop: () => Promise<void>;
}

/** A fresh address and password for an account a test creates in the browser. */
export const newCredentials = (label: string): Credentials => ({
  email: `${label}-${randomBytes(5).toString('hex')}@example.com`,
  password: `pw-${randomBytes(8).toString('hex')}`,
});

/**
 * What Parley Web runs on in a browser test: the built app, a Groq stub, an edge (in this process)
 * on a fresh database and queue prefix, a real worker process (chat and maintenance queues unless
 * told otherwise), and a TcpProxy in front of the edge that the browser goes through (a test can sever it).
 */
export async function startWebStack(
  label: string,
  options: {
    stub?: Partial<StubOptions>;
    env?: Record<string, string>;
    /** The worker's queues; documents need `ingest` too (its embedding model costs start-up time). */
    workerQueues?: string;
  } = {},
): Promise<WebStack> {
  await ensureWebBuilt();
  const stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 1_000, answerTokens: 24, ...options.stub });
  const admin = newCredentials('admin');
  const env = {
    DATABASE_URL: await createTestDatabase(label),
    ...TEST_REDIS_ENV,
    QUEUE_PREFIX: uniqueQueuePrefix(label),
    // The secret webSession.ts signs its forged tokens with, too.
    JWT_SECRET: TEST_JWT_SECRET,
    GROQ_API_KEY: 'test-key',
    GROQ_BASE_URL: stub.baseURL,
    GROQ_MAX_RETRIES: '0',
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    // Small batches so a streaming answer reaches the page in many steps.
    STREAM_FLUSH_MS: '20',
    RATE_LIMIT_MESSAGES: '10000/1m',
    RATE_LIMIT_UPLOADS: '1000/1h',
    // Random-weight test vectors carry no meaning: only word matches may count as relevant.
    RETRIEVAL_MIN_SIMILARITY: '1',
    EMBEDDING_BATCH_SIZE: '2',
    ...options.env,
  };
  // The edge migrates the fresh database before the worker starts, so the two never race for it.
  const edge = await startInProcessEdge(env);
  const worker = await ChildService.start(
    'workers/index.ts',
    { ...env, WORKER_QUEUES: options.workerQueues ?? 'chat,maintenance' },
    'workers started',
  );
  const edgeUrl = new URL(edge.url);
  const link = await TcpProxy.start(edgeUrl.hostname, Number(edgeUrl.port));
  const api = new ApiClient(edge.url);

  const tokenFor = async ({ email, password }: Credentials) => {
    const response = await api.request('POST', '/api/v1/auth/login', { body: { email, password } });
    if (response.status !== 200) throw new Error(`login of ${email}: ${response.status}`);
    return response.body.accessToken as string;
  };
  const storedMessages = async (token: string, conversationId: string) => {
    const response = await api.request('GET', `/api/v1/conversations/${conversationId}/messages?limit=100`, {
      token,
    });
    if (response.status !== 200) throw new Error(`messages of ${conversationId}: ${response.status}`);
    return response.body.items as StoredMessage[];
  };

  return {
    stub,
    edge,
    worker,
    link,
    url: link.origin,
    api,
    admin,
    env,
    tokenFor,
    storedMessages,
    stop: async () => {
      await link.close();
      await worker.stop();
      await edge.stop();
      await stub.close();
    },
  };
}

const ANSWER_WORDS = ['alpha', 'café', 'straße', '漢字', 'naïve', 'über', 'bravo', '🙂'];

/**
 * Stub tokens for an answer of `count` numbered words (some multi-byte), plain text so its
 * Markdown shows as the same characters: a doubled or a missing piece changes the text on screen.
 */
export const numberedAnswer =
  (count: number, prefix = '') =>
  () =>
    Array.from(
      { length: count },
      (_, index) =>
        `${index === 0 ? '' : ' '}${prefix}${ANSWER_WORDS[index % ANSWER_WORDS.length]}${index + 1}`,
    );
