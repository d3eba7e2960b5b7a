import { expect } from 'chai';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import type { ChildService } from '../support/ChildService.ts';
import { GroqStub } from '../support/GroqStub.ts';
import { PrivatePostgres } from '../support/privatePostgres.ts';
import { type ProcessStack, startProcessStack } from '../support/processStack.ts';

/**
 * "Every answer ends complete, failed or cancelled, and its client is told" across a Postgres
 * outage: the edge and a worker run as real processes on a Postgres of the test's own, which the
 * test stops (as a crash would: immediate shutdown) and starts again.
 */
describe('a Postgres outage', function () {
  this.timeout(90_000);
  let postgres: PrivatePostgres;
  let stub: GroqStub;
  let stack: ProcessStack;
  let edge: ChildService;
  let worker: ChildService;
  let api: ApiClient;
  let session: Session;
  let client: ChatClient;

  before(async () => {
    postgres = await PrivatePostgres.start();
    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 40, answerTokens: 40 });
    stack = await startProcessStack('outage', {
      env: { DATABASE_URL: postgres.url, STREAM_FLUSH_MS: '10' },
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
    await postgres?.destroy();
  });

  it('an answer that ends while Postgres is down is stored complete once it is back, and its tab is told', async () => {
    const conversation = await api.request('POST', '/api/v1/conversations', {
      token: session.accessToken,
      body: { title: 'outage' },
    });
    const turn = await client.send({ conversationId: conversation.body.id, content: 'keep talking' });
    await client.untilTokens(turn.assistantMessageId, 2);

    await postgres.halt();
    // The stream runs on (it needs no database); its ending meets the outage and waits for it.
    await worker.waitFor(
      (line) =>
        typeof line.msg === 'string' &&
        line.msg.startsWith(`database unavailable: ending answer ${turn.assistantMessageId}`),
    );
    // Meanwhile the edge answers 503 `unavailable`, not 500, and stays up.
    const refused = await api.request('GET', '/api/v1/conversations', { token: session.accessToken });
    expect(refused.status).to.equal(503);
    expect(refused.body).to.include({ code: 'unavailable' });
    expect(refused.headers.get('retry-after')).to.equal('5');
    const ready = await fetch(`${api.baseUrl}/health/ready`);
    expect(ready.status).to.equal(503);
    expect(((await ready.json()) as { failing: string[] }).failing).to.include('postgres');

    await postgres.resume();
    const answer = await client.untilEnded(turn.assistantMessageId);
    expect(answer.error, 'no chat:error').to.equal(undefined);
    expect(answer.done).to.include({ status: 'complete' });
    expect(answer.done!.content).to.equal(client.text(turn.assistantMessageId).text);

    const page = await api.request('GET', `/api/v1/conversations/${turn.conversationId}/messages`, {
      token: session.accessToken,
    });
    const stored = page.body.items.find((item: { id: string }) => item.id === turn.assistantMessageId);
    expect(stored).to.include({ status: 'complete', content: answer.done!.content });
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
