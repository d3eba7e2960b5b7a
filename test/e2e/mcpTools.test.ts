import { expect } from 'chai';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import type { LogLine } from '../support/ChildService.ts';
import { type ChatMessage, GroqStub } from '../support/GroqStub.ts';
import { McpTestServer } from '../support/McpTestServer.ts';
import { type ProcessStack, startProcessStack } from '../support/processStack.ts';
import { readSse } from '../support/sse.ts';

const ADMIN = { email: 'mcp-tools-admin@example.com', password: 'admin password for tests' };
const HEADER_SECRET = 'mcp-header-secret-5d1c7b90e2';

/**
 * An MCP server's tool through the whole pipeline: an admin registers the server (with a secret
 * header), the model (the Groq stub, through the real groq-sdk) asks for `<server>__<tool>`, the
 * chat worker — a real process — calls the server and hands the result back to the model; the
 * call shows on the relay and on the stored message. With the server down the answer still ends
 * `complete`. The header's value never reaches a response or a log line.
 */
describe('MCP tools in answers: registered by an admin, called by the worker loop', function () {
  this.timeout(60_000);
  let stub: GroqStub;
  let mcp: McpTestServer;
  let stack: ProcessStack;
  let api: ApiClient;
  let admin: Session;
  let alice: Session;
  const bodies: string[] = [];
  const call = async (session: Session, method: string, path: string, body?: unknown) => {
    const response = await api.request(method, `/api/v1${path}`, { token: session.accessToken, body });
    bodies.push(JSON.stringify(response.body ?? null));
    return response;
  };
  /** Sends a message in a new conversation and reads its stream to the end. */
  const answer = async (content: string) => {
    const conversation = await call(alice, 'POST', '/conversations', { title: 'orders' });
    expect(conversation.status).to.equal(201);
    const sent = await call(alice, 'POST', `/conversations/${conversation.body.id}/messages`, { content });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    const messageId = sent.body.assistantMessage.id as string;
    const sse = await readSse(
      `${stack.url}/api/v1/messages/${messageId}/stream?afterSeq=0`,
      alice.accessToken,
    );
    bodies.push(JSON.stringify(sse.events));
    const page = await call(alice, 'GET', `/conversations/${conversation.body.id}/messages?limit=10`);
    const stored = page.body.items.find((item: { id: string }) => item.id === messageId);
    return { events: sse.events, stored };
  };
  const toolResults = (messages: ChatMessage[]) =>
    messages.filter((message) => message.role === 'tool').map((message) => String(message.content));

  before(async () => {
    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 2_000, answerTokens: 10 });
    mcp = await McpTestServer.start();
    const groq = { GROQ_API_KEY: 'test-key', GROQ_BASE_URL: stub.baseURL };
    stack = await startProcessStack('mcp-tools', {
      env: {
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        RATE_LIMIT_MESSAGES: '1000/1m',
        ...groq,
      },
      workerEnv: { WORKER_QUEUES: 'chat,maintenance' },
    });
    api = new ApiClient(stack.url);
    admin = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body;
    alice = await api.signup('alice');
  });
  after(async () => {
    await stack?.stop();
    await mcp?.stop();
    await stub?.close();
  });
  beforeEach(() => stub.reset());

  it('offers the registered tool to the model and calls it with its arguments and headers', async () => {
    const registered = await call(admin, 'POST', '/admin/mcp-servers', {
      name: 'shop',
      url: mcp.url,
      headers: { Authorization: `Bearer ${HEADER_SECRET}` },
    });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    expect(registered.body.headerNames).to.deep.equal(['Authorization']);

    stub.enqueueTurns(
      { toolCalls: [{ name: 'shop__lookup_order', arguments: { orderId: 'A-1001' } }] },
      { text: ['Your order', ' arrives', ' on 2 December.'] },
    );
    const { events, stored } = await answer('Where is my order A-1001?');

    const [first, second] = await stub.waitForRequests(2);
    expect((first!.body.tools ?? []).map((tool) => tool.function.name)).to.include('shop__lookup_order');
    expect(mcp.calls.map((recorded) => recorded.arguments)).to.deep.equal([{ orderId: 'A-1001' }]);
    expect(mcp.calls[0]!.headers.authorization).to.equal(`Bearer ${HEADER_SECRET}`);
    expect(toolResults(second!.body.messages)).to.deep.equal([
      'Order A-1001: shipped on 2026-11-30, arriving 2026-12-02.',
    ]);

    const tools = events.filter((event) => event.event === 'chat:tool').map((event) => event.data);
    expect(tools.map((tool) => `${tool.name}:${tool.status}`)).to.deep.equal([
      'shop__lookup_order:running',
      'shop__lookup_order:complete',
    ]);
    const end = events.at(-1)!;
    expect(end.event).to.equal('chat:done');
    expect(end.data).to.include({ status: 'complete', content: 'Your order arrives on 2 December.' });
    expect(
      stored.toolCalls.map((tool: { name: string; status: string }) => [tool.name, tool.status]),
    ).to.deep.equal([['shop__lookup_order', 'complete']]);
  });

  it('still completes the answer when the MCP server is down: the model reads "unavailable"', async () => {
    await mcp.stop();
    stub.enqueueTurns(
      { toolCalls: [{ name: 'shop__lookup_order', arguments: { orderId: 'A-2002' } }] },
      { text: ['I could not', ' look it up.'] },
    );
    const { events, stored } = await answer('Where is my order A-2002?');
    const end = events.at(-1)!;
    expect(end.event).to.equal('chat:done');
    expect(end.data).to.include({ status: 'complete', content: 'I could not look it up.' });
    const requests = await stub.waitForRequests(2);
    // Offered from the server's last-known list; the call finds it down and says so to the model.
    expect((requests[0]!.body.tools ?? []).map((tool) => tool.function.name)).to.include(
      'shop__lookup_order',
    );
    const results = requests.flatMap((request) => toolResults(request.body.messages));
    expect(results).to.have.length(1);
    expect(results[0]).to.match(/^error: .*unavailable/);
    expect(mcp.calls.map((recorded) => recorded.arguments)).to.deep.equal([{ orderId: 'A-1001' }]);
    expect(stored.status).to.equal('complete');
  });

  it("never shows the server's header value in a response or a log line of either process", () => {
    const lines = (logLines: LogLine[], stderr: string[]) => [
      ...logLines.map((line) => JSON.stringify(line)),
      ...stderr,
    ];
    const logs = [
      ...lines(stack.edge.lines, stack.edge.stderr),
      ...lines(stack.worker.lines, stack.worker.stderr),
    ];
    expect(logs.length).to.be.greaterThan(10);
    expect(bodies.filter((body) => body.includes(HEADER_SECRET))).to.deep.equal([]);
    expect(logs.filter((line) => line.includes(HEADER_SECRET))).to.deep.equal([]);
  });
});
