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

describe('Redis Cluster failover while answers stream', function () {
  this.timeout(120_000);
  let cluster: PrivateCluster;
  let stub: GroqStub;
  let worker: ChildService;
  let edge: ChildService;
  let api: ApiClient;
  let alice: Session;
  let prefix: string;
  const clients: ChatClient[] = [];

  before(async () => {
    // A cluster of this file's own: the test kills one of its masters.
    cluster = await PrivateCluster.start();
    // Slow enough that every answer is still streaming when the master dies and after it is replaced.
    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 25, answerTokens: 150 });
    prefix = uniqueQueuePrefix('failover');
    const env = {
      DATABASE_URL: await createTestDatabase('failover'),
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
    ({ edge, url: api } = await ChildService.startEdge(env).then(({ edge, url }) => ({
      edge,
      url: new ApiClient(url),
    })));
    alice = await api.signup('alice');
  });

  after(async () => {
    for (const client of clients) client.close();
    await Promise.all([edge, worker].map((service) => service?.stop()));
    await stub?.close();
    await cluster?.stop();
  });

  const ready = async () => (await api.request('GET', '/health/ready')).status === 200;

  it('ends every accepted answer and tells its client, keeps the processes up, reports the outage and recovers', async () => {
    const client = await ChatClient.connect(api.baseUrl, alice.accessToken);
    clients.push(client);
    await until('the edge is ready', ready);

    const turns = [];
    for (let index = 0; index < 6; index++) turns.push(await client.send({ content: `question ${index}` }));
    // Every answer is streaming before the master goes.
    await Promise.all(turns.map((turn) => client.untilTokens(turn.assistantMessageId, 2)));

    // The master serving the queues' slot (BullMQ's keys all carry the hash tag {prefix}).
    const queueMaster = await cluster.masterOf(`{${prefix}}:chat:wait`);
    await cluster.kill(queueMaster);

    await until('readiness reports the outage', async () => !(await ready()));
    const outage = await api.request('GET', '/health/ready');
    expect(outage.status).to.equal(503);
    expect(outage.body.failing).to.include.oneOf(['redis', 'queues']);

    const promoted = await cluster.untilPromotedAway(queueMaster, `{${prefix}}:chat:wait`);
    expect(promoted).to.not.equal(queueMaster);
    await until('readiness recovers', ready);

    // Every accepted answer reaches an end, and its client hears of it.
    const ends = await Promise.all(turns.map((turn) => client.untilEnded(turn.assistantMessageId)));
    for (const end of ends) expect(Boolean(end.done) || Boolean(end.error)).to.equal(true);
    for (const turn of turns) {
      const page = await api.request(
        'GET',
        `/api/v1/conversations/${turn.conversationId}/messages?limit=10`,
        { token: alice.accessToken },
      );
      const stored = page.body.items.find((item: { id: string }) => item.id === turn.assistantMessageId);
      expect(TERMINAL_MESSAGE_STATUSES, `answer ${turn.assistantMessageId}`).to.include(stored.status);
    }

    // Nothing crashed.
    expect(worker.process.exitCode).to.equal(null);
    expect(edge.process.exitCode).to.equal(null);

    // A new question after the failover is answered in full.
    stub.configure({ tokensPerSecond: 2_000, answerTokens: 20 });
    const after = await client.send({ content: 'after the failover' });
    const answer = await client.untilEnded(after.assistantMessageId);
    expect(answer.error).to.equal(undefined);
    expect(answer.done?.content ?? client.text(after.assistantMessageId).text).to.not.equal('');
  });
});
