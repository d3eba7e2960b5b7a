import type { Worker } from 'bullmq';
import { expect } from 'chai';
import { startWorkers } from '../../workers/startWorkers.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { GroqStub } from '../support/GroqStub.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { capturingLogger } from '../support/logCapture.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { readSse } from '../support/sse.ts';
import { WebSocketLlmStub } from '../support/WebSocketLlmStub.ts';

const ADMIN = { email: 'ws-provider-admin@example.com', password: 'admin password for ws tests' };
const KEY = 'ws-e2e-secret-key-a4c19e7b';
const GROQ_MODEL = 'llama-3.1-8b-instant';

/**
 * A custom LLM service over WebSocket through the real stack (edge, chat worker, Postgres, Redis):
 * an admin registers it, a conversation on its model streams the answer from it (with the key on
 * the upgrade), and while it is down its fallback (the built-in Groq model, stubbed) answers. The
 * key never appears in an API response or a log line.
 */
describe('a websocket model provider end to end', function () {
  this.timeout(60_000);
  let groq: GroqStub;
  let socketLlm: WebSocketLlmStub;
  let edge: TestEdge;
  let workers: Worker[];
  let api: ApiClient;
  let admin: Session;
  let alice: Session;
  const logs = capturingLogger();
  const bodies: string[] = [];

  const call = async (session: Session, method: string, path: string, body?: unknown) => {
    const response = await api.request(method, `/api/v1${path}`, { token: session.accessToken, body });
    bodies.push(JSON.stringify(response.body ?? null));
    return response;
  };
  /** The built-in model's streamed answers (titles are asked for without streaming). */
  const groqAnswers = () => groq.requests.filter((request) => request.body.stream === true);
  const answer = async (content: string) => {
    const created = await call(alice, 'POST', '/conversations', { model: 'house:house-7b' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const sent = await call(alice, 'POST', `/conversations/${created.body.id}/messages`, { content });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    const sse = await readSse(
      `${edge.url}/api/v1/messages/${sent.body.assistantMessage.id}/stream?afterSeq=0`,
      alice.accessToken,
    );
    bodies.push(JSON.stringify(sse.events));
    return {
      events: sse.events,
      conversationId: created.body.id as string,
      messageId: sent.body.assistantMessage.id as string,
    };
  };

  before(async () => {
    groq = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 2_000, answerTokens: 5 });
    socketLlm = await WebSocketLlmStub.start();
    edge = await startInProcessEdge(
      {
        DATABASE_URL: await createTestDatabase('ws_provider'),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: uniqueQueuePrefix('ws-provider'),
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        GROQ_API_KEY: 'test-key',
        GROQ_BASE_URL: groq.baseURL,
      },
      { logger: logs.logger },
    );
    workers = await startWorkers(edge.runtime, ['chat']);
    api = new ApiClient(edge.url);
    admin = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body;
    alice = await api.signup('alice');
  });
  after(async () => {
    await Promise.all((workers ?? []).map((worker) => worker.close()));
    await edge?.stop();
    await socketLlm?.close();
    await groq?.close();
  });

  it('refuses an http URL and tools for a websocket provider', async () => {
    const refused = await call(admin, 'POST', '/admin/providers', {
      name: 'bad',
      kind: 'websocket',
      baseUrl: 'http://127.0.0.1:1/',
      models: [{ id: 'm', contextTokens: 8_000, supportsTools: true }],
    });
    expect(refused.status).to.equal(400);
    expect(refused.body.errors.map((error: { path: string }) => error.path)).to.have.members([
      'body.baseUrl',
      'body.models.0.supportsTools',
    ]);
    expect((await call(admin, 'GET', '/admin/providers')).body.items).to.deep.equal([]);
  });

  it('registers the provider and streams a conversation’s answer from it, with the key', async () => {
    const created = await call(admin, 'POST', '/admin/providers', {
      name: 'house',
      kind: 'websocket',
      baseUrl: socketLlm.url,
      apiKey: KEY,
      timeoutMs: 5_000,
      fieldMap: { response: 'text', delta: 'chunk' },
      models: [{ id: 'house-7b', contextTokens: 8_000, fallbacks: [GROQ_MODEL] }],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body).to.include({ kind: 'websocket', hasApiKey: true, baseUrl: socketLlm.url });
    expect(created.body.fieldMap).to.deep.equal({ response: 'text', delta: 'chunk' });
    socketLlm.fields = { response: 'text', delta: 'chunk' };

    const { events } = await answer('Hello house model');
    const end = events.at(-1)!;
    expect(end.event, JSON.stringify(end)).to.equal('chat:done');
    expect(end.data).to.include({
      status: 'complete',
      content: 'Socket answer from house-7b.',
      model: 'house:house-7b',
    });
    const deltas = events.filter((event) => event.event === 'chat:token').map((event) => event.data.delta);
    expect(deltas.join('')).to.equal('Socket answer from house-7b.');
    expect(socketLlm.handshakes.at(-1)!.authorization).to.equal(`Bearer ${KEY}`);
    const sent = socketLlm.requests.at(-1)!;
    expect(sent.message).to.equal('Hello house model');
    expect(sent.metadata.messages.at(-1)).to.deep.equal({ role: 'user', content: 'Hello house model' });
    expect(groqAnswers()).to.have.length(0);

    // A second answer rides the same connection: one upgrade per provider and worker process.
    const again = await answer('And again');
    expect(again.events.at(-1)!.event).to.equal('chat:done');
    expect(socketLlm.requests).to.have.length(2);
    expect(socketLlm.handshakes).to.have.length(1);
  });

  it('while the service is down, the fallback (the built-in model) answers', async () => {
    await socketLlm.stop();
    const { events } = await answer('Anyone home?');
    const end = events.at(-1)!;
    expect(end.event, JSON.stringify(end)).to.equal('chat:done');
    expect(end.data).to.include({ status: 'complete', model: GROQ_MODEL });
    const asked = groqAnswers();
    expect(asked).to.have.length(1);
    expect(asked[0]!.body.messages.at(-1)).to.deep.include({ role: 'user', content: 'Anyone home?' });
    await socketLlm.restart();
  });

  it('a drop after the first deltas ends the answer failed with its text kept; no fallback', async () => {
    socketLlm.mode = 'drop-after-deltas';
    const before = groqAnswers().length;
    const { events, conversationId, messageId } = await answer('Tell me more');
    socketLlm.mode = 'streamed';
    const end = events.at(-1)!;
    expect(end.event, JSON.stringify(end)).to.equal('chat:error');
    expect(end.data.retryable).to.equal(true);
    expect(groqAnswers()).to.have.length(before);
    const messages = await call(alice, 'GET', `/conversations/${conversationId}/messages`);
    expect(messages.body.items.find((item: { id: string }) => item.id === messageId)).to.include({
      status: 'failed',
      content: 'Socket answer ',
    });
  });

  it('keeps a websocket provider on ws/wss URLs and without tools when it is changed', async () => {
    const { items } = (await call(admin, 'GET', '/admin/providers')).body;
    const id = items[0].id as string;
    const refused = await call(admin, 'PATCH', `/admin/providers/${id}`, {
      baseUrl: 'https://example.com/v1',
      models: [{ id: 'house-7b', contextTokens: 8_000, supportsTools: true }],
    });
    expect(refused.status).to.equal(400);
    expect(refused.body.errors.map((error: { path: string }) => error.path)).to.have.members([
      'body.baseUrl',
      'body.models.0.supportsTools',
    ]);
    const after = await call(admin, 'GET', `/admin/providers/${id}`);
    expect(after.body).to.include({ baseUrl: socketLlm.url, kind: 'websocket' });
    expect(after.body.models[0].supportsTools).to.equal(false);
  });

  it('never shows the key in an API response or a log line', async () => {
    await call(admin, 'GET', '/admin/providers');
    expect(bodies.join('\n')).not.to.include(KEY);
    expect(logs.lines.length).to.be.greaterThan(0);
    expect(logs.lines.join('\n')).not.to.include(KEY);
  });
});
