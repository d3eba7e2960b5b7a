import { expect } from 'chai';
import { TERMINAL_MESSAGE_STATUSES } from '../../src/db/entities/Message.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { ChildService } from '../support/ChildService.ts';
import { GroqStub } from '../support/GroqStub.ts';
import { PrivateCluster } from '../support/privateCluster.ts';
import { createTestDatabase, TEST_JWT_SECRET, uniqueQueuePrefix } from '../support/services.ts';

/** Polls `probe` until it returns true: readiness and the cluster's map have no event to wait on. */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

const ROUNDS = 3;

/**
 * Failover after failover: kill the master of the queues' slot while answers stream, let it come
 * back (as a replica of the one that took over), then kill the new master, and so on. After every
 * round each accepted answer has ended and its client was told, the processes are up, and a new
 * question is answered in full: the workers fetch again after any failover, not only the first.
 */
describe('Redis Cluster: repeated failovers of the queues master', function () {
  this.timeout(ROUNDS * 120_000);
  let cluster: PrivateCluster;
  let stub: GroqStub;
  let worker: ChildService;
  let edge: ChildService;
  let api: ApiClient;
  let alice: Session;
  let prefix: string;
  const clients: ChatClient[] = [];

  before(async () => {
    cluster = await PrivateCluster.start();
    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 25, answerTokens: 150 });
    prefix = uniqueQueuePrefix('refailover');
    const env = {
      DATABASE_URL: await createTestDatabase('refailover'),
      REDIS_CLUSTER_NODES: cluster.nodeList,
      QUEUE_PREFIX: prefix,
      JWT_SECRET: TEST_JWT_SECRET,
      STREAM_FLUSH_MS: '20',
      RATE_LIMIT_MESSAGES: '10000/1m',
    };
    worker = await ChildService.start(
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
    edge = started.edge;
    api = new ApiClient(started.url);
    alice = await api.signup('alice');
  });

  after(async () => {
    for (const client of clients) client.close();
    await Promise.all([edge, worker].map((service) => service?.stop()));
    await stub?.close();
    await cluster?.stop();
  });

  const ready = async () => (await api.request('GET', '/health/ready')).status === 200;
  const storedStatus = async (conversationId: string, messageId: string) => {
    const page = await api.request('GET', `/api/v1/conversations/${conversationId}/messages?limit=10`, {
      token: alice.accessToken,
    });
    return page.body.items.find((item: { id: string }) => item.id === messageId)?.status;
  };

  it(`survives ${ROUNDS} rounds: every answer ends and is told, and new sends are answered after each`, async () => {
    const client = await ChatClient.connect(api.baseUrl, alice.accessToken);
    clients.push(client);
    const key = `{${prefix}}:chat:wait`;
    for (let round = 1; round <= ROUNDS; round++) {
      await until(`round ${round}: the edge is ready`, ready, 90_000);
      await cluster.untilHealthy(3, 90_000);
      stub.configure({ tokensPerSecond: 25, answerTokens: 150 });
      const turns = [];
      for (let index = 0; index < 4; index++)
        turns.push(await client.send({ content: `round ${round}, question ${index}` }));
      await Promise.all(turns.map((turn) => client.untilTokens(turn.assistantMessageId, 2)));

      const master = await cluster.masterOf(key);
      await cluster.kill(master);
      const promoted = await cluster.untilPromotedAway(master, key);
      expect(promoted, `round ${round}`).to.not.equal(master);

      // Every accepted answer reaches an end, and its client hears of it.
      const ends = await Promise.all(turns.map((turn) => client.untilEnded(turn.assistantMessageId)));
      for (const end of ends)
        expect(Boolean(end.done) || Boolean(end.error), `round ${round}`).to.equal(true);
      for (const turn of turns)
        expect(TERMINAL_MESSAGE_STATUSES).to.include(
          await storedStatus(turn.conversationId, turn.assistantMessageId),
        );

      // The killed master returns, as a replica of the one that took over.
      await cluster.restart(master);
      expect(worker.process.exitCode, `round ${round}: worker`).to.equal(null);
      expect(edge.process.exitCode, `round ${round}: edge`).to.equal(null);

      // A send between failovers is answered in full: the worker fetches from the new master.
      await until(`round ${round}: the edge is ready again`, ready, 90_000);
      stub.configure({ tokensPerSecond: 2_000, answerTokens: 20 });
      const between = await client.send({ content: `between rounds ${round} and ${round + 1}` });
      const answer = await client.untilEnded(between.assistantMessageId);
      expect(answer.error, `round ${round}: the answer between failovers`).to.equal(undefined);
      expect(await storedStatus(between.conversationId, between.assistantMessageId)).to.equal('complete');
    }
  });
});
