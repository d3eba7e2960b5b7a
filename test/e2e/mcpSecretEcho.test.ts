import type { Worker } from 'bullmq';
import { expect } from 'chai';
import { knownSecrets } from '../../src/health/knownSecrets.ts';
import type { LlmHealth } from '../../src/health/LlmHealth.ts';
import { Readiness } from '../../src/health/Readiness.ts';
import { startWorkers } from '../../workers/startWorkers.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { type ChatMessage, GroqStub } from '../support/GroqStub.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { capturingLogger } from '../support/logCapture.ts';
import { McpTestServer } from '../support/McpTestServer.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { readSse } from '../support/sse.ts';

const ADMIN = { email: 'mcp-echo-admin@example.com', password: 'admin password for echo tests' };
const TOKEN = 'mcp-echoed-token-6b2f0e9a41c7';
const PROVIDER_KEY = 'sk-provider-key-93d1a7c55e20';

/**
 * A careless MCP server quotes the credential it was sent: in an `isError` text, in a thrown
 * error, in a plain answer. Through the real worker's tool loop none of it may reach the model
 * (the Groq stub's next request), the chat:tool events, the stored toolCalls or a log line; the
 * same for /health/ready, whose entries quote outside services' errors.
 */
describe('secrets quoted back by an MCP server never travel on', function () {
  this.timeout(60_000);
  let stub: GroqStub;
  let mcp: McpTestServer;
  let edge: TestEdge;
  let workers: Worker[];
  let api: ApiClient;
  let admin: Session;
  let alice: Session;
  const logs = capturingLogger();

  before(async () => {
    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 2_000, answerTokens: 10 });
    mcp = await McpTestServer.start({ echoesCredentials: true });
    edge = await startInProcessEdge(
      {
        DATABASE_URL: await createTestDatabase('mcp_echo'),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: uniqueQueuePrefix('mcp-echo'),
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        GROQ_API_KEY: 'test-key',
        GROQ_BASE_URL: stub.baseURL,
      },
      { logger: logs.logger },
    );
    workers = await startWorkers(edge.runtime, ['chat']);
    api = new ApiClient(edge.url);
    admin = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body;
    alice = await api.signup('alice');
    const registered = await api.request('POST', '/api/v1/admin/mcp-servers', {
      token: admin.accessToken,
      body: { name: 'vault', url: mcp.url, headers: { Authorization: `Bearer ${TOKEN}` } },
    });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
  });
  after(async () => {
    await Promise.all((workers ?? []).map((worker) => worker.close()));
    await edge?.stop();
    await mcp?.stop();
    await stub?.close();
  });

  it('redacts it in what the model reads, the events, the stored calls and the logs', async () => {
    stub.enqueueTurns(
      {
        toolCalls: [
          { name: 'vault__check_access', arguments: {} },
          { name: 'vault__check_access_throws', arguments: {} },
          { name: 'vault__whoami', arguments: {} },
        ],
      },
      { text: ['Access', ' was denied.'] },
    );
    const conversation = await api.request('POST', '/api/v1/conversations', {
      token: alice.accessToken,
      body: { title: 'vault' },
    });
    const sent = await api.request('POST', `/api/v1/conversations/${conversation.body.id}/messages`, {
      token: alice.accessToken,
      body: { content: 'May I open the vault?' },
    });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    const messageId = sent.body.assistantMessage.id as string;
    const sse = await readSse(
      `${edge.url}/api/v1/messages/${messageId}/stream?afterSeq=0`,
      alice.accessToken,
    );
    expect(sse.events.at(-1)!.data).to.include({ status: 'complete' });

    // The server did get the credential, and quoted it three ways.
    expect(mcp.calls.map((call) => call.tool)).to.have.members([
      'check_access',
      'check_access_throws',
      'whoami',
    ]);
    expect(mcp.calls[0]!.headers.authorization).to.equal(`Bearer ${TOKEN}`);

    // The model's view: the second request's tool results.
    const [, second] = await stub.waitForRequests(2);
    const results = second!.body.messages
      .filter((message: ChatMessage) => message.role === 'tool')
      .map((message: ChatMessage) => String(message.content));
    expect(results).to.have.length(3);
    for (const result of results) expect(result).to.include('[redacted]').and.not.include(TOKEN);
    expect(results.join('\n')).to.include('access denied for token [redacted]');

    const toolEvents = sse.events.filter((event) => event.event === 'chat:tool');
    expect(toolEvents).to.have.length(6);
    expect(JSON.stringify(toolEvents)).not.to.include(TOKEN);

    const page = await api.request('GET', `/api/v1/conversations/${conversation.body.id}/messages?limit=10`, {
      token: alice.accessToken,
    });
    const stored = page.body.items.find((item: { id: string }) => item.id === messageId);
    expect(stored.toolCalls).to.have.length(3);
    expect(JSON.stringify(stored)).not.to.include(TOKEN);

    // The failures were logged (so the path ran), without the token.
    const failed = logs.lines.filter((line) => line.includes('"tool failed"'));
    expect(failed).to.have.length.greaterThan(0);
    expect(failed.join('\n')).to.include('[redacted]');
    expect(logs.lines.filter((line) => line.includes(TOKEN))).to.deep.equal([]);
  });

  it('redacts every stored secret in /health/ready, whatever check quotes it', async () => {
    const provider = await api.request('POST', '/api/v1/admin/providers', {
      token: admin.accessToken,
      body: {
        name: 'keyed',
        baseUrl: 'http://127.0.0.1:9/v1',
        apiKey: PROVIDER_KEY,
        models: [{ id: 'm', contextTokens: 8_192 }],
      },
    });
    expect(provider.status, JSON.stringify(provider.body)).to.equal(201);
    const { orm, redis, queues, secrets, config } = edge.runtime;
    // An outside service's error that quotes what it was sent (any check's text goes through the same path).
    const quoting = {
      status: async () => ({
        status: 'degraded' as const,
        provider: 'groq' as const,
        error: `rejected ${PROVIDER_KEY} and Bearer ${TOKEN}`,
        checkedAt: null,
      }),
    } as unknown as LlmHealth;
    const readiness = new Readiness({
      orm,
      redis: redis.create('command', 'echo-readiness'),
      queues,
      llm: quoting,
      secrets: () => knownSecrets(orm.em.fork(), secrets, config.groq.apiKey),
    });
    const report = await readiness.report();
    expect(report.checks.llm!.error).to.equal('rejected [redacted] and [redacted]');
    expect(JSON.stringify(report)).not.to.include(PROVIDER_KEY).and.not.include(TOKEN);
  });
});
