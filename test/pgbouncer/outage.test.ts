import { expect } from 'chai';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import type { ChildService } from '../support/ChildService.ts';
import { GroqStub } from '../support/GroqStub.ts';
import { PrivatePgBouncer } from '../support/privatePgBouncer.ts';
import { PrivatePostgres } from '../support/privatePostgres.ts';
import { type ProcessStack, startProcessStack } from '../support/processStack.ts';

/**
 * test/e2e/databaseOutage.test.ts with PgBouncer in between: Postgres stops (immediate shutdown)
 * behind it. PgBouncer keeps accepting clients and queues their queries, so the outage reaches
 * Parley as PgBouncer's `query_wait_timeout` error (08P01), which must read as "database
 * unavailable" (503, the ending waits) as a refused connection does, not as a bug (500).
 */
describe('a Postgres outage behind PgBouncer', function () {
  this.timeout(90_000);
  let postgres: PrivatePostgres;
  let bouncer: PrivatePgBouncer;
  let stub: GroqStub;
  let stack: ProcessStack;
  let edge: ChildService;
  let worker: ChildService;
  let api: ApiClient;
  let session: Session;
  let client: ChatClient;

  before(async () => {
    postgres = await PrivatePostgres.start();
    bouncer = await PrivatePgBouncer.start({
      poolSize: 5,
      upstream: `127.0.0.1:${new URL(postgres.url).port}`,
      queueWaitSeconds: 2,
    });
    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 40, answerTokens: 40 });
    stack = await startProcessStack('pgbouncer-outage', {
      env: { DATABASE_URL: bouncer.urlFor(postgres.url), STREAM_FLUSH_MS: '10' },
      workerEnv: { WORKER_QUEUES: 'chat', GROQ_API_KEY: 'test-key', GROQ_BASE_URL: stub.baseURL },
    });
    ({ edge, worker } = stack);
    api = new ApiClient(stack.url);
    session = await api.signup('outage');
    client = await ChatClient.connect(stack.url, session.accessToken);
  });
  after(async () => {
    client?.close();
    await stack?.stop();
    await stub?.close();
    await bouncer?.stop();
    await postgres?.destroy();
  });

  it('an answer that ends while Postgres is down is stored complete once it is back; the edge answers 503 meanwhile', async () => {
    const conversation = await api.request('POST', '/api/v1/conversations', {
      token: session.accessToken,
      body: { title: 'outage' },
    });
    const turn = await client.send({ conversationId: conversation.body.id, content: 'keep talking' });
    await client.untilTokens(turn.assistantMessageId, 2);

    await postgres.halt();
    await worker.waitFor(
      (line) =>
        typeof line.msg === 'string' &&
        line.msg.startsWith(`database unavailable: ending answer ${turn.assistantMessageId}`),
    );
    const refused = await api.request('GET', '/api/v1/conversations', { token: session.accessToken });
    expect(refused.status).to.equal(503);
    expect(refused.body).to.include({ code: 'unavailable' });
    const ready = await fetch(`${api.baseUrl}/health/ready`);
    expect(ready.status).to.equal(503);
    expect(((await ready.json()) as { failing: string[] }).failing).to.include('postgres');

    await postgres.resume();
    const answer = await client.untilEnded(turn.assistantMessageId);
    expect(answer.error, 'no chat:error').to.equal(undefined);
    expect(answer.done).to.include({ status: 'complete' });
    expect(answer.done!.content).to.equal(client.text(turn.assistantMessageId).text);
    expect(edge.process.exitCode).to.equal(null);
    expect(worker.process.exitCode).to.equal(null);
  });

  it('takes new messages again once Postgres is back', async () => {
    const turn = await client.send({ content: 'after the outage' });
    const answer = await client.untilEnded(turn.assistantMessageId);
    expect(answer.done).to.include({ status: 'complete' });
    expect((await fetch(`${api.baseUrl}/health/ready`)).status).to.equal(200);
  });
});
