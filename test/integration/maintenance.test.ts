import { QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import { expect } from 'chai';
import { Conversation, Document, Message, RefreshToken, User } from '../../src/db/entities/index.ts';
import { createLogger } from '../../src/logger.ts';
import { scheduleMaintenance } from '../../src/maintenance/schedule.ts';
import { Queues } from '../../src/queues/Queues.ts';
import { RedisConnections } from '../../src/redis/connections.ts';
import { startWorkers } from '../../workers/startWorkers.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import {
  createTestDatabase,
  TEST_REDIS_ENV,
  TEST_REDIS_TARGET,
  uniqueQueuePrefix,
} from '../support/services.ts';

const ADMIN = { email: 'ops@example.com', password: 'admin password for tests' };

describe('maintenance: retention and housekeeping', function () {
  this.timeout(30_000);
  let edge: TestEdge;
  let api: ApiClient;
  let admin: string;
  let events: QueueEvents;
  let stopWorkers: () => Promise<unknown>;
  let owner: User;

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('maintenance'),
      ...TEST_REDIS_ENV,
      QUEUE_PREFIX: uniqueQueuePrefix('maintenance'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    api = new ApiClient(edge.url);
    admin = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body.accessToken;
    events = new QueueEvents('maintenance', {
      connection: edge.runtime.redis.create('blocking', 'test-events'),
      prefix: edge.runtime.queues.bullmqPrefix,
    });
    await events.waitUntilReady();
    const workers = await startWorkers(edge.runtime, ['maintenance']);
    stopWorkers = () => Promise.all(workers.map((worker) => worker.close()));
    const em = edge.runtime.orm.em.fork();
    owner = em.create(User, { email: 'keeper@example.com', passwordHash: 'x' });
    await em.flush();
  });
  after(async () => {
    await stopWorkers?.();
    await events?.close();
    await edge?.stop();
  });

  const sql = (query: string, params: unknown[] = []) =>
    edge.runtime.orm.em.getConnection().execute(query, params);

  /** A conversation with a user message and an answer, last active `daysAgo` days ago. */
  async function conversationIdleFor(daysAgo: number, title: string) {
    const em = edge.runtime.orm.em.fork();
    const conversation = em.create(Conversation, { user: owner, title });
    const question = em.create(Message, {
      conversation,
      user: owner,
      role: 'user',
      content: `about ${title}`,
    });
    em.create(Message, {
      conversation,
      user: owner,
      role: 'assistant',
      content: 'answer',
      replyTo: question.id,
    });
    await em.flush();
    await sql(`update conversations set last_message_at = now() - make_interval(days => ?) where id = ?`, [
      daysAgo,
      conversation.id,
    ]);
    return conversation.id;
  }

  async function runNow() {
    const response = await api.request('POST', '/api/v1/admin/maintenance/run', { token: admin });
    expect(response.status).to.equal(202);
    const job = await edge.runtime.queues.get('maintenance').getJob(response.body.jobId);
    return (await job!.waitUntilFinished(events)) as {
      counts: Record<string, number>;
      retentionDays: number;
    };
  }

  it('deletes exactly the conversations idle longer than retentionDays, with their messages, and is idempotent', async () => {
    const old = await conversationIdleFor(40, 'old');
    const edgeOfWindow = await conversationIdleFor(29, 'almost');
    const fresh = await conversationIdleFor(0, 'fresh');
    const em = edge.runtime.orm.em.fork();
    em.create(RefreshToken, {
      user: owner,
      tokenHash: 'e'.repeat(64),
      family: old,
      expiresAt: new Date(Date.now() - 1_000),
    });
    em.create(RefreshToken, {
      user: owner,
      tokenHash: 'f'.repeat(64),
      family: old,
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    await em.flush();

    const first = await runNow();
    expect(first.retentionDays).to.equal(30);
    expect(first.counts).to.include({ conversations: 1, refreshTokens: 1 });
    const left = (await sql('select id from conversations where user_id = ?', [owner.id])).map(
      (row: { id: string }) => row.id,
    );
    expect(left).to.have.members([edgeOfWindow, fresh]);
    expect(await sql('select id from messages where conversation_id = ?', [old])).to.deep.equal([]);
    expect(await sql('select id from messages where conversation_id = ?', [fresh])).to.have.length(2);
    expect(await sql('select id from refresh_tokens where user_id = ?', [owner.id])).to.have.length(1);

    const second = await runNow();
    expect(second.counts).to.deep.equal({
      conversations: 0,
      refreshTokens: 0,
      replayStreams: 0,
      stuckMessages: 0,
      stuckDocuments: 0,
    });
    const report = await api.request('GET', '/api/v1/admin/maintenance', { token: admin });
    expect(report.body.lastRun).to.include({ trigger: 'admin', retentionDays: 30 });
    expect(report.body.lastRun.counts).to.deep.equal(second.counts);
  });

  it('keeps everything when retentionDays is 0', async () => {
    expect(
      (await api.request('PUT', '/api/v1/admin/settings/retentionDays', { token: admin, body: { value: 0 } }))
        .status,
    ).to.equal(200);
    try {
      const ancient = await conversationIdleFor(400, 'ancient');
      const run = await runNow();
      expect(run.counts.conversations).to.equal(0);
      expect(await sql('select id from conversations where id = ?', [ancient])).to.have.length(1);
    } finally {
      await api.request('PUT', '/api/v1/admin/settings/retentionDays', { token: admin, body: { value: 30 } });
    }
  });

  it('ends answers stuck without a job and gives orphaned replay logs an expiry', async () => {
    const conversationId = await conversationIdleFor(0, 'stuck');
    const [stuck] = await sql(`select id from messages where conversation_id = ? and role = 'assistant'`, [
      conversationId,
    ]);
    await sql(
      `update messages set status = 'streaming', updated_at = now() - interval '1 hour' where id = ?`,
      [stuck.id],
    );
    const [finished] = await sql(`select id from messages where conversation_id = ? and role = 'user'`, [
      conversationId,
    ]);
    const redis = edge.runtime.redis.create('pubsub', 'test');
    const key = `${edge.runtime.config.redis.queuePrefix}:stream:${finished.id}`;
    await redis.xadd(key, '1-0', 'e', '{}');

    const run = await runNow();
    expect(run.counts).to.include({ stuckMessages: 1, replayStreams: 1 });
    const [after] = await sql('select status, error from messages where id = ?', [stuck.id]);
    expect(after.status).to.equal('failed');
    expect(after.error).to.match(/regenerate/);
    expect(await redis.ttl(key)).to.be.greaterThan(0);
  });

  it('sweeps answers and documents whose job failed without ending them, and tells their tabs', async () => {
    const session = await api.signup('sweep');
    const tab = await ChatClient.connect(edge.url, session.accessToken);
    const prefix = edge.runtime.queues.bullmqPrefix;
    const em = edge.runtime.orm.em.fork();
    const user = await em.findOneOrFail(User, { id: session.user.id });
    const conversation = em.create(Conversation, { user, title: 'swept' });
    const question = em.create(Message, { conversation, user, role: 'user', content: 'q' });
    const answer = em.create(Message, {
      conversation,
      user,
      role: 'assistant',
      status: 'streaming',
      replyTo: question.id,
    });
    const document = em.create(Document, {
      user,
      filename: 'a.txt',
      mime: 'text/plain',
      size: 1,
      sha256: 'a'.repeat(64),
      status: 'processing',
    });
    await em.flush();
    // Their jobs failed for good, as when an outage outlasts the retries and the job's own
    // ending could not reach the database either. Failed jobs are kept (for Bull Board).
    const failJob = async (queue: 'chat' | 'ingest', name: string, data: object, jobId: string) => {
      const worker = new Worker(
        queue,
        async () => {
          throw new UnrecoverableError('connect ECONNREFUSED');
        },
        { connection: edge.runtime.redis.create('blocking', `test-${queue}`), prefix },
      );
      try {
        // The worker's own event, not QueueEvents: those read the event stream from the moment
        // their first XREAD lands, which on a cluster may come after this fast failure.
        const failed = new Promise((done) => worker.on('failed', (job) => job?.id === jobId && done(job)));
        await worker.waitUntilReady();
        const job = await edge.runtime.queues.get(queue).add(name as never, data as never, { jobId });
        await failed;
        expect(await job.getState()).to.equal('failed');
      } finally {
        await worker.close();
      }
    };
    await failJob(
      'chat',
      'generate-reply',
      { userId: user.id, conversationId: conversation.id, messageId: answer.id },
      answer.id,
    );
    await failJob('ingest', 'ingest-document', { userId: user.id, documentId: document.id }, document.id);

    try {
      const sweep = await edge.runtime.queues.get('maintenance').add('sweep-stuck-work', { graceMs: 0 });
      expect(await sweep.waitUntilFinished(events)).to.deep.equal({ messages: 1, documents: 1 });

      const told = await tab.untilEnded(answer.id);
      expect(told.error).to.include({ code: 'llm_unavailable', retryable: true });
      const [stored] = await sql('select status, error from messages where id = ?', [answer.id]);
      expect(stored.status).to.equal('failed');
      expect(stored.error).to.equal(told.error!.message);
      await tab.until(() => tab.documentProgress.some((event) => event.documentId === document.id));
      expect(tab.documentProgress.find((event) => event.documentId === document.id)).to.include({
        status: 'failed',
      });
      const [doc] = await sql('select status from documents where id = ?', [document.id]);
      expect(doc.status).to.equal('failed');

      // Ended once: a second sweep finds nothing.
      const again = await edge.runtime.queues.get('maintenance').add('sweep-stuck-work', { graceMs: 0 });
      expect(await again.waitUntilFinished(events)).to.deep.equal({ messages: 0, documents: 0 });
    } finally {
      tab.close();
    }
  });

  it('keeps one schedule of each kind however many workers register them', async () => {
    const prefix = uniqueQueuePrefix('schedule');
    const connections = [1, 2].map(() => new RedisConnections(TEST_REDIS_TARGET, createLogger('silent')));
    const queues = connections.map((connection) => new Queues(connection, prefix));
    try {
      await Promise.all(queues.map((queue) => scheduleMaintenance(queue, { retentionCron: '17 3 * * *' })));
      await scheduleMaintenance(queues[0]!, { retentionCron: '17 3 * * *' });
      const maintenance = queues[1]!.get('maintenance');
      // The daily run and the minutely sweep of stuck work.
      expect(await maintenance.getJobSchedulersCount()).to.equal(2);
      const upcoming = await maintenance.getJobs(['delayed', 'waiting']);
      expect(upcoming.filter((job) => job.name === 'maintenance-run')).to.have.length(1);
      expect(upcoming.filter((job) => job.name === 'sweep-stuck-work')).to.have.length(1);
    } finally {
      await Promise.all(queues.map((queue) => queue.close()));
      await Promise.all(connections.map((connection) => connection.closeAll()));
    }
  });
});
