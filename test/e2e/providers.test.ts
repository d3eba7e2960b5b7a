import { expect } from 'chai';
import { freePort } from '../../src/process/freePort.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import type { LogLine } from '../support/ChildService.ts';
import { OpenAiStub } from '../support/OpenAiStub.ts';
import { type ProcessStack, startProcessStack } from '../support/processStack.ts';
import { readSse } from '../support/sse.ts';

const ADMIN = { email: 'providers-admin@example.com', password: 'admin password for tests' };
const FIRST_KEY = 'sk-first-provider-key-7f3a9c';
const SECOND_KEY = 'sk-second-provider-key-b81e44';

/**
 * Admin-configured providers end to end, with an edge and a chat worker as real processes (their
 * logs captured) and the OpenAI stub as the provider: registration, GET /models, a conversation
 * on the provider's model, fallback before the first token, no fallback after it, and the key
 * never in a response or a log line.
 */
describe('model providers, the models list and fallback', function () {
  this.timeout(60_000);
  let stub: OpenAiStub;
  let stack: ProcessStack;
  let api: ApiClient;
  let admin: Session;
  let alice: Session;
  /** Every response body this suite received, to look for the keys in at the end. */
  const bodies: string[] = [];

  const call = async (session: Session, method: string, path: string, body?: unknown) => {
    const response = await api.request(method, `/api/v1${path}`, { token: session.accessToken, body });
    bodies.push(JSON.stringify(response.body ?? null));
    return response;
  };
  /** Sends a message in a conversation and reads its stream to the end: the terminal event. */
  const answer = async (conversationId: string, content: string) => {
    const sent = await call(alice, 'POST', `/conversations/${conversationId}/messages`, { content });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    const messageId = sent.body.assistantMessage.id as string;
    const sse = await readSse(
      `${stack.url}/api/v1/messages/${messageId}/stream?afterSeq=0`,
      alice.accessToken,
    );
    bodies.push(JSON.stringify(sse.events));
    return { messageId, end: sse.events.at(-1)!, events: sse.events };
  };
  const newConversation = async (model?: string) => {
    const created = await call(alice, 'POST', '/conversations', model ? { model } : {});
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return created.body.id as string;
  };
  const provider = {
    name: 'local',
    baseUrl: '',
    apiKey: FIRST_KEY,
    models: [
      {
        id: 'big',
        name: 'Big model',
        contextTokens: 32_000,
        tokenizer: 'approximate',
        supportsTools: true,
        fallbacks: ['local:small'],
      },
      { id: 'small', name: 'Small model', contextTokens: 8_000, tokenizer: 'llama3' },
      { id: 'tiny', name: 'Tiny context', contextTokens: 600, tokenizer: 'llama3' },
    ],
  };
  let providerId: string;
  let workerMetricsPort: number;

  before(async () => {
    stub = await OpenAiStub.start();
    provider.baseUrl = stub.baseURL;
    workerMetricsPort = await freePort();
    stack = await startProcessStack('providers', {
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, RATE_LIMIT_MESSAGES: '1000/1m' },
      workerEnv: { WORKER_QUEUES: 'chat,maintenance', WORKER_METRICS_PORT: String(workerMetricsPort) },
    });
    api = new ApiClient(stack.url);
    const login = await api.request('POST', '/api/v1/auth/login', { body: ADMIN });
    admin = login.body;
    alice = await api.signup('alice');
  });
  after(async () => {
    await stack?.stop();
    await stub?.close();
  });

  it('keeps the provider API to admins: 401 without a session, 403 for a user', async () => {
    expect((await api.request('GET', '/api/v1/admin/providers')).status).to.equal(401);
    expect((await call(alice, 'GET', '/admin/providers')).status).to.equal(403);
    const refused = await call(alice, 'POST', '/admin/providers', provider);
    expect(refused.status).to.equal(403);
    expect(refused.headers.get('content-type')).to.match(/^application\/problem\+json/);
    const listed = await call(admin, 'GET', '/admin/providers');
    expect(listed.body.items).to.deep.equal([]);
    expect(listed.body.builtIn).to.deep.include({ name: 'offline', readOnly: true, hasApiKey: false });
    expect(listed.body.builtIn.models.map((model: { id: string }) => model.id)).to.deep.equal(['offline']);
  });

  it('lists only the offline stand-in while nothing is configured (no GROQ_API_KEY)', async () => {
    const models = await call(alice, 'GET', '/models');
    expect(models.status).to.equal(200);
    expect(models.body.items).to.deep.equal([
      {
        id: 'offline',
        name: 'Offline (no model configured)',
        provider: 'offline',
        contextTokens: 8_000,
        supportsTools: false,
        isDefault: true,
      },
    ]);
  });

  it('registers a provider (the key write-only), validates it, and lists its models for users', async () => {
    const invalid = await call(admin, 'POST', '/admin/providers', {
      ...provider,
      name: 'groq',
      baseUrl: 'ftp://example.com',
    });
    expect(invalid.status).to.equal(400);
    expect(invalid.body.errors.map((error: { path: string }) => error.path)).to.include.members([
      'body.name',
      'body.baseUrl',
    ]);

    const created = await call(admin, 'POST', '/admin/providers', provider);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body).to.include({ name: 'local', kind: 'openai-compatible', hasApiKey: true });
    expect(created.body).not.to.have.property('apiKey');
    expect(created.body.models[1]).to.deep.include({
      id: 'small',
      name: 'Small model',
      supportsTools: false,
      fallbacks: [],
      enabled: true,
    });
    providerId = created.body.id;
    expect((await call(admin, 'POST', '/admin/providers', provider)).status).to.equal(409);

    const models = await call(alice, 'GET', '/models');
    expect(models.body.items).to.deep.include({
      id: 'local:big',
      name: 'Big model',
      provider: 'local',
      contextTokens: 32_000,
      supportsTools: true,
      isDefault: false,
    });
    expect(JSON.stringify(models.body)).not.to.include(stub.baseURL);
  });

  it('a conversation on the provider’s model streams its answer through it, with the key', async () => {
    const conversationId = await newConversation('local:big');
    const { messageId, end, events } = await answer(conversationId, 'Hello big model');
    expect(end.event, JSON.stringify(end)).to.equal('chat:done');
    expect(end.data).to.include({ status: 'complete', content: 'Answer from big.', model: 'local:big' });
    const deltas = events.filter((event) => event.event === 'chat:token').map((event) => event.data.delta);
    expect(deltas.join('')).to.equal('Answer from big.');
    expect(end.data.usage).to.deep.equal({ promptTokens: 10, completionTokens: 4 });
    const request = stub.requestsFor('big').at(-1)!;
    expect(request.authorization).to.equal(`Bearer ${FIRST_KEY}`);
    expect(request.body.messages.at(-1)).to.deep.include({ role: 'user', content: 'Hello big model' });

    const conversation = await call(alice, 'GET', `/conversations/${conversationId}`);
    expect(conversation.body.model).to.equal('local:big');
    const messages = await call(alice, 'GET', `/conversations/${conversationId}/messages`);
    expect(messages.body.items.find((item: { id: string }) => item.id === messageId)).to.include({
      status: 'complete',
      model: 'local:big',
    });
  });

  it('a new key reaches the running worker: the next answer sends it', async () => {
    const patched = await call(admin, 'PATCH', `/admin/providers/${providerId}`, { apiKey: SECOND_KEY });
    expect(patched.status).to.equal(200);
    expect(patched.body.hasApiKey).to.equal(true);
    const conversationId = await newConversation('local:big');
    const { end } = await answer(conversationId, 'Again');
    expect(end.data.model).to.equal('local:big');
    expect(stub.requestsFor('big').at(-1)!.authorization).to.equal(`Bearer ${SECOND_KEY}`);
  });

  it('429 before the first token: the fallback answers, and the message records it', async () => {
    const conversationId = await newConversation('local:big');
    stub.script('big', { kind: 'status', status: 429 });
    const before = stub.requestsFor('small').length;
    const { messageId, end } = await answer(conversationId, 'Are you there?');
    expect(end.event).to.equal('chat:done');
    expect(end.data).to.include({ content: 'Answer from small.', model: 'local:small' });
    expect(stub.requestsFor('small')).to.have.length(before + 1);
    const metrics = await (await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`)).text();
    expect(metrics).to.include('parley_llm_fallbacks_total{from="local:big",to="local:small"} 1');
    const messages = await call(alice, 'GET', `/conversations/${conversationId}/messages`);
    expect(messages.body.items.find((item: { id: string }) => item.id === messageId).model).to.equal(
      'local:small',
    );
  });

  it('a failure after tokens ends the answer `failed`; the fallback is never asked', async () => {
    const conversationId = await newConversation('local:big');
    stub.script('big', { kind: 'cut', afterTokens: 2 });
    const before = stub.requestsFor('small').length;
    const { messageId, end } = await answer(conversationId, 'Tell me more');
    expect(end.event).to.equal('chat:error');
    expect(end.data.retryable).to.equal(true);
    expect(stub.requestsFor('small')).to.have.length(before);
    const messages = await call(alice, 'GET', `/conversations/${conversationId}/messages`);
    expect(messages.body.items.find((item: { id: string }) => item.id === messageId)).to.include({
      status: 'failed',
      content: 'Answer from ',
    });
  });

  it('budgets the prompt by the conversation’s model: a small context drops the old turn, a large one keeps it', async () => {
    const conversationId = await newConversation('local:tiny');
    const long = `Remember this: ${'budget '.repeat(300)}`;
    await answer(conversationId, long);
    await answer(conversationId, 'Short question?');
    const tiny = stub.requestsFor('tiny').at(-1)!;
    // 600 tokens of context: the answer gets at most 3/4 of it, the long turn no longer fits.
    expect(tiny.body.max_tokens).to.equal(450);
    expect(JSON.stringify(tiny.body.messages)).not.to.include('Remember this');
    expect(tiny.body.messages.at(-1)).to.deep.include({ content: 'Short question?' });

    await call(alice, 'PATCH', `/conversations/${conversationId}`, { model: 'local:big' });
    await answer(conversationId, 'And now?');
    const big = stub.requestsFor('big').at(-1)!;
    expect(big.body.max_tokens).to.equal(1_024);
    expect(JSON.stringify(big.body.messages)).to.include('Remember this');
  });

  it('refuses an unknown or disabled model with 422 problem+json (create, PATCH)', async () => {
    const unknown = await call(alice, 'POST', '/conversations', { model: 'local:nope' });
    expect(unknown.status).to.equal(422);
    expect(unknown.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(unknown.body).to.include({ code: 'unknown_model', status: 422 });

    const conversationId = await newConversation();
    expect(
      (await call(alice, 'PATCH', `/conversations/${conversationId}`, { model: 'nope' })).status,
    ).to.equal(422);
    const chosen = await call(alice, 'PATCH', `/conversations/${conversationId}`, { model: 'local:small' });
    expect(chosen.body.model).to.equal('local:small');
    const reset = await call(alice, 'PATCH', `/conversations/${conversationId}`, { model: null });
    expect(reset.body.model).to.equal(null);

    const disabled = provider.models.map((model) => ({ ...model, enabled: model.id !== 'small' }));
    expect(
      (await call(admin, 'PATCH', `/admin/providers/${providerId}`, { models: disabled })).status,
    ).to.equal(200);
    expect((await call(alice, 'POST', '/conversations', { model: 'local:small' })).status).to.equal(422);
    const listed = await call(alice, 'GET', '/models');
    expect(listed.body.items.map((item: { id: string }) => item.id)).to.deep.equal([
      'offline',
      'local:big',
      'local:tiny',
    ]);
  });

  it('chat:send starts a new conversation on a chosen model; an unknown one is refused in the ack', async () => {
    const tab = await ChatClient.connect(stack.url, alice.accessToken);
    try {
      const [refused] = await tab.emit('chat:send', { content: 'Hi', model: 'local:nope' });
      expect(refused).to.include({ code: 'unknown_model' });
      const sent = await tab.send({ content: 'Hi from a socket', model: 'local:big' });
      const ended = await tab.untilEnded(sent.assistantMessageId);
      expect(ended.done).to.include({ model: 'local:big', content: 'Answer from big.' });
      const conversation = await call(alice, 'GET', `/conversations/${sent.conversationId}`);
      expect(conversation.body.model).to.equal('local:big');
    } finally {
      tab.close();
    }
  });

  it('deletes a provider; its models leave the list', async () => {
    expect((await call(admin, 'DELETE', `/admin/providers/${providerId}`)).status).to.equal(204);
    expect((await call(admin, 'GET', `/admin/providers/${providerId}`)).status).to.equal(404);
    const listed = await call(alice, 'GET', '/models');
    expect(listed.body.items.map((item: { id: string }) => item.id)).to.deep.equal(['offline']);
  });

  it('never shows a key in a response or a log line of either process', () => {
    const lines = (lines: LogLine[], stderr: string[]) => [
      ...lines.map((line) => JSON.stringify(line)),
      ...stderr,
    ];
    const logs = [
      ...lines(stack.edge.lines, stack.edge.stderr),
      ...lines(stack.worker.lines, stack.worker.stderr),
    ];
    expect(logs.length).to.be.greaterThan(10);
    for (const key of [FIRST_KEY, SECOND_KEY]) {
      expect(bodies.filter((body) => body.includes(key))).to.deep.equal([]);
      expect(logs.filter((line) => line.includes(key))).to.deep.equal([]);
    }
  });
});
