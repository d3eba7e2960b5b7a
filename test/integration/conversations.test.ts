import { expect } from 'chai';
import { OFFLINE_NOTICE, OFFLINE_OPERATOR_NOTE } from '../../src/llm/OfflineProvider.ts';
import { startWorkers } from '../../workers/startWorkers.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { type ChatStack, startChatStack } from '../support/chatStack.ts';
import type { GroqStub } from '../support/GroqStub.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { capturingLogger } from '../support/logCapture.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { readSse } from '../support/sse.ts';

describe('conversations and messages over REST and SSE', function () {
  this.timeout(30_000);
  let stub: GroqStub;
  let edge: TestEdge;
  let api: ApiClient;
  let alice: Session;
  let bob: Session;
  let stack: ChatStack;
  const clients: ChatClient[] = [];

  before(async () => {
    stack = await startChatStack(
      'conversations',
      { ttftMs: 5, tokensPerSecond: 2_000, answerTokens: 20 },
      // Small batches, so an answer spans several seq numbers.
      { RATE_LIMIT_MESSAGES: '10000/1m', STREAM_FLUSH_CHARS: '8' },
    );
    ({ stub, edge } = stack);
    api = new ApiClient(edge.url);
    [alice, bob] = [await api.signup('alice'), await api.signup('bob')];
  });
  after(async () => {
    for (const client of clients) client.close();
    await stack?.stop();
  });
  // Each test starts from the suite's stub pace, whatever the previous one set.
  afterEach(() => stub.configure({ ttftMs: 5, tokensPerSecond: 2_000, answerTokens: 20 }));

  const as = (session: Session) => ({
    get: (path: string) => api.request('GET', `/api/v1${path}`, { token: session.accessToken }),
    post: (path: string, body?: unknown) =>
      api.request('POST', `/api/v1${path}`, { token: session.accessToken, body }),
    patch: (path: string, body: unknown) =>
      api.request('PATCH', `/api/v1${path}`, { token: session.accessToken, body }),
    delete: (path: string) => api.request('DELETE', `/api/v1${path}`, { token: session.accessToken }),
  });
  const sseUntilEnd = (session: Session, messageId: string, afterSeq = 0) =>
    readSse(`${edge.url}/api/v1/messages/${messageId}/stream?afterSeq=${afterSeq}`, session.accessToken);

  it('creates, lists (newest activity first, by cursor, by title), reads, updates and deletes conversations', async () => {
    const created = [];
    for (const title of ['Alpha trip', 'Beta budget', 'Gamma trip']) {
      const response = await as(alice).post('/conversations', { title, mode: 'chat' });
      expect(response.status).to.equal(201);
      expect(response.body).to.include({ title, mode: 'chat' });
      expect(response.body.documents).to.deep.equal([]);
      created.push(response.body);
    }
    const first = await as(alice).get('/conversations?limit=2');
    expect(first.body.items.map((item: { title: string }) => item.title)).to.deep.equal([
      'Gamma trip',
      'Beta budget',
    ]);
    const second = await as(alice).get(`/conversations?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((item: { title: string }) => item.title)).to.deep.equal(['Alpha trip']);
    expect(second.body.nextCursor).to.equal(null);
    const trips = await as(alice).get('/conversations?q=trip');
    expect(trips.body.items.map((item: { title: string }) => item.title)).to.deep.equal([
      'Gamma trip',
      'Alpha trip',
    ]);
    expect((await as(alice).get('/conversations?cursor=garbage')).status).to.equal(400);

    const patched = await as(alice).patch(`/conversations/${created[0].id}`, {
      title: 'Renamed',
      mode: 'grounded',
    });
    expect(patched.body).to.include({ title: 'Renamed', mode: 'grounded' });
    expect((await as(alice).get(`/conversations/${created[0].id}`)).body.title).to.equal('Renamed');
    expect((await as(alice).delete(`/conversations/${created[0].id}`)).status).to.equal(204);
    expect((await as(alice).get(`/conversations/${created[0].id}`)).status).to.equal(404);
  });

  it('accepts a message with 202, streams it over SSE, and is idempotent on clientMessageId', async () => {
    // Tokens are held until the answer's `streaming` write commits: at 2 000 tokens/s a slow commit
    // on a busy machine gathered all 20 into one batch (seen in CI), leaving nothing to resume past.
    stub.configure({ tokensPerSecond: 100 });
    const conversation = (await as(alice).post('/conversations', { title: 'SSE' })).body;
    const sent = await as(alice).post(`/conversations/${conversation.id}/messages`, {
      content: 'Hello over REST',
      clientMessageId: 'c-1',
    });
    expect(sent.status).to.equal(202);
    expect(sent.body.userMessage).to.include({
      role: 'user',
      content: 'Hello over REST',
      status: 'complete',
      clientMessageId: 'c-1',
    });
    expect(sent.body.assistantMessage).to.include({ role: 'assistant', replyTo: sent.body.userMessage.id });
    const messageId = sent.body.assistantMessage.id;

    const sse = await sseUntilEnd(alice, messageId);
    expect(sse.status).to.equal(200);
    expect(sse.contentType).to.match(/^text\/event-stream/);
    const tokens = sse.events.filter((event) => event.event === 'chat:token');
    expect(tokens.map((event) => event.data.seq)).to.deep.equal(tokens.map((_, index) => index + 1));
    const done = sse.events.at(-1)!;
    expect(done.event).to.equal('chat:done');
    expect(tokens.map((event) => event.data.delta).join('')).to.equal(done.data.content);

    const again = await as(alice).post(`/conversations/${conversation.id}/messages`, {
      content: 'Hello over REST',
      clientMessageId: 'c-1',
    });
    expect(again.status).to.equal(202);
    expect(again.body.userMessage.id).to.equal(sent.body.userMessage.id);
    expect(again.body.assistantMessage.id).to.equal(messageId);
    const messages = await as(alice).get(`/conversations/${conversation.id}/messages`);
    expect(messages.body.items.map((item: { role: string }) => item.role)).to.deep.equal([
      'user',
      'assistant',
    ]);
    expect(messages.body.items[1]).to.include({ status: 'complete', content: done.data.content });
    expect(
      stub.requests.filter(
        (record) => record.body.stream === true && JSON.stringify(record.body).includes('Hello over REST'),
      ),
    ).to.have.length(1);

    // Resuming SSE from seq 2 sends only what came after, then the end.
    expect(tokens.length).to.be.greaterThan(3);
    const resumed = await sseUntilEnd(alice, messageId, 2);
    const resumedSeqs = resumed.events
      .filter((event) => event.event === 'chat:token')
      .map((event) => event.data.seq);
    expect(resumedSeqs).to.deep.equal(tokens.slice(2).map((event) => event.data.seq));
    expect(resumed.events.at(-1)!.event).to.equal('chat:done');
  });

  it('regenerates an answer as a new message for the same turn, and titles a new conversation', async () => {
    const client = await ChatClient.connect(edge.url, alice.accessToken);
    clients.push(client);
    const turn = await client.send({ content: 'Plan a picnic by the lake' });
    await client.untilEnded(turn.assistantMessageId);
    await client.until(() =>
      client.conversationUpdates.some((update) => update.conversationId === turn.conversationId),
    );
    const update = client.conversationUpdates.find((event) => event.conversationId === turn.conversationId)!;
    expect(update.title).to.be.a('string').and.not.equal('');
    expect((await as(alice).get(`/conversations/${turn.conversationId}`)).body.title).to.equal(update.title);

    const regenerated = await as(alice).post(`/messages/${turn.assistantMessageId}/regenerate`);
    expect(regenerated.status).to.equal(202);
    const next = regenerated.body.assistantMessage;
    expect(next.id).not.to.equal(turn.assistantMessageId);
    expect(next.replyTo).to.equal(turn.userMessageId);
    await client.untilEnded(next.id);
    const messages = await as(alice).get(`/conversations/${turn.conversationId}/messages`);
    expect(messages.body.items.map((item: { role: string }) => item.role)).to.deep.equal([
      'user',
      'assistant',
      'assistant',
    ]);
  });

  it('cancels over REST, and refuses to cancel what has already ended', async () => {
    stub.configure({ tokensPerSecond: 20, answerTokens: 200 });
    try {
      const conversation = (await as(alice).post('/conversations', { title: 'cancel' })).body;
      const sent = await as(alice).post(`/conversations/${conversation.id}/messages`, {
        content: 'go on and on',
      });
      await stub.waitFor('first-token', (record) =>
        JSON.stringify(record.body.messages).includes('go on and on'),
      );
      const cancelled = await as(alice).post(`/messages/${sent.body.assistantMessage.id}/cancel`);
      expect(cancelled.status).to.equal(202);
      const sse = await sseUntilEnd(alice, sent.body.assistantMessage.id);
      expect(sse.events.at(-1)!.data.status).to.equal('cancelled');
      expect((await as(alice).post(`/messages/${sent.body.assistantMessage.id}/cancel`)).status).to.equal(
        202,
      );
      stub.configure({ tokensPerSecond: 2_000, answerTokens: 5 });
      const finished = await as(alice).post(`/conversations/${conversation.id}/messages`, { content: 'x' });
      await sseUntilEnd(alice, finished.body.assistantMessage.id);
      expect((await as(alice).post(`/messages/${finished.body.assistantMessage.id}/cancel`)).status).to.equal(
        409,
      );
    } finally {
      stub.reset();
    }
  });

  it('answers 404 for every route given another user’s conversation or message, and lists nothing of theirs', async () => {
    const conversation = (await as(alice).post('/conversations', { title: 'private' })).body;
    const sent = await as(alice).post(`/conversations/${conversation.id}/messages`, { content: 'secret' });
    const messageId = sent.body.assistantMessage.id;
    await sseUntilEnd(alice, messageId);

    const attempts: [string, Promise<{ status: number }>][] = [
      ['GET conversation', as(bob).get(`/conversations/${conversation.id}`)],
      ['PATCH conversation', as(bob).patch(`/conversations/${conversation.id}`, { title: 'mine' })],
      ['DELETE conversation', as(bob).delete(`/conversations/${conversation.id}`)],
      ['GET messages', as(bob).get(`/conversations/${conversation.id}/messages`)],
      ['POST message', as(bob).post(`/conversations/${conversation.id}/messages`, { content: 'hi' })],
      ['cancel', as(bob).post(`/messages/${messageId}/cancel`)],
      ['regenerate', as(bob).post(`/messages/${messageId}/regenerate`)],
      ['stream', as(bob).get(`/messages/${messageId}/stream`)],
    ];
    for (const [name, attempt] of attempts) expect((await attempt).status, name).to.equal(404);

    const bobsList = await as(bob).get('/conversations');
    expect(bobsList.body.items.map((item: { id: string }) => item.id)).not.to.include(conversation.id);
    const bobClient = await ChatClient.connect(edge.url, bob.accessToken);
    clients.push(bobClient);
    const [sendError] = await bobClient.emit('chat:send', { conversationId: conversation.id, content: 'hi' });
    expect(sendError?.code).to.equal('not_found');
    expect((await bobClient.emit('chat:cancel', { messageId }))[0]?.code).to.equal('not_found');
    expect((await bobClient.emit('chat:resume', { messageId, afterSeq: 0 }))[0]?.code).to.equal('not_found');
    // Alice's conversation is untouched.
    expect((await as(alice).get(`/conversations/${conversation.id}`)).body.title).to.equal('private');
    expect((await as(alice).get(`/conversations/${conversation.id}/messages`)).body.items).to.have.length(2);
  });

  it('rejects malformed socket payloads in the ack', async () => {
    const client = await ChatClient.connect(edge.url, alice.accessToken);
    clients.push(client);
    for (const payload of [
      {},
      { content: '' },
      { content: 'x'.repeat(40_000) },
      { content: 'ok', extra: 1 },
      { content: 'ok', conversationId: 'nope' },
    ]) {
      const [error] = await client.emit('chat:send', payload);
      expect(error?.code, JSON.stringify(payload).slice(0, 50)).to.equal('validation_failed');
    }
    expect((await client.emit('chat:resume', { messageId: 'x', afterSeq: -1 }))[0]?.code).to.equal(
      'validation_failed',
    );
  });
});

describe('chat with no LLM configured', () => {
  let edge: TestEdge;
  let stopWorkers: () => Promise<unknown>;
  const logs = capturingLogger();

  before(async () => {
    edge = await startInProcessEdge(
      {
        DATABASE_URL: await createTestDatabase('offline'),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: uniqueQueuePrefix('offline'),
      },
      { logger: logs.logger },
    );
    const workers = await startWorkers(edge.runtime, ['chat']);
    stopWorkers = () => Promise.all(workers.map((worker) => worker.close()));
  });
  after(async () => {
    await stopWorkers?.();
    await edge?.stop();
  });

  it('runs the whole pipeline and tells the user once, in their words, that no model is set up', async () => {
    const api = new ApiClient(edge.url);
    const session = await api.signup('offline');
    const client = await ChatClient.connect(edge.url, session.accessToken);
    try {
      const question = 'Are you there, my friend, on this fine morning?';
      const turn = await client.send({ content: question });
      const answer = await client.untilEnded(turn.assistantMessageId);
      expect(answer.done!.status).to.equal('complete');
      expect(answer.done!.model).to.equal('offline');
      expect(client.text(turn.assistantMessageId).text).to.equal(answer.done!.content);
      // The stored answer holds the user's notice exactly once, and no operator detail.
      const messages = await api.request('GET', `/api/v1/conversations/${turn.conversationId}/messages`, {
        token: session.accessToken,
      });
      const stored = messages.body.items.find((item: { id: string }) => item.id === turn.assistantMessageId);
      expect(stored.content.split(OFFLINE_NOTICE)).to.have.length(2);
      expect(stored.content).to.include('Ask your administrator to set one up.');
      expect(stored.content).not.to.include('GROQ_API_KEY');
      // The title is the question's first words, not the echoed title prompt.
      await client.until(() =>
        client.conversationUpdates.some((update) => update.conversationId === turn.conversationId),
      );
      const conversation = await api.request('GET', `/api/v1/conversations/${turn.conversationId}`, {
        token: session.accessToken,
      });
      expect(conversation.body.title).to.equal('Are you there, my friend, on');
      // The operator's detail is in the worker's log, once, at warn.
      const notes = logs.lines
        .map((line) => JSON.parse(line))
        .filter((line) => line.msg === OFFLINE_OPERATOR_NOTE);
      expect(notes.map((line) => line.level)).to.deep.equal([40]);
    } finally {
      client.close();
    }
  });
});
