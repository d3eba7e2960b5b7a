import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { expect } from 'chai';
import { createMcpToolSource } from '../../src/compose/mcpToolSource.ts';
import { McpToolSource, McpToolUnavailableError } from '../../src/mcp/McpToolSource.ts';
import { McpToolError } from '../../src/mcp/mcpToolOutcome.ts';
import type { Tool, ToolContext } from '../../src/tools/Tool.ts';
import { ApiClient, type ApiResponse } from '../support/ApiClient.ts';
import { ChildService } from '../support/ChildService.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { capturingLogger } from '../support/logCapture.ts';
import { McpTestServer } from '../support/McpTestServer.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

const ADMIN = { email: 'mcp-admin@example.com', password: 'admin password for mcp tests' };
const SECRET_TOKEN = 'mcp-token-7f3a9c1e5b2d4068';
const SECRET_TENANT = 'tenant-secret-d41d8cd98f00';
const ROTATED_TOKEN = 'mcp-token-rotated-0b1c2d3e4f';
const SECRETS = [SECRET_TOKEN, SECRET_TENANT, ROTATED_TOKEN];

describe('MCP servers: admin registration and the tool source (real MCP server over HTTP)', () => {
  let mcp: McpTestServer;
  let edge: TestEdge;
  let api: ApiClient;
  let admin: string;
  let user: string;
  let source: McpToolSource;
  const logs = capturingLogger();
  /** Every answer the API gave in this file: none may hold a header value. */
  const answers: ApiResponse[] = [];
  const call = async (method: string, path: string, options: { body?: unknown; token?: string } = {}) => {
    const response = await api.request(method, path, { token: admin, ...options });
    answers.push(response);
    return response;
  };
  const context = (): ToolContext => ({
    userId: 'u',
    conversationId: 'c',
    messageId: 'm',
    signal: AbortSignal.timeout(10_000),
    em: edge.runtime.orm.em.fork(),
    citationOffset: 0,
  });
  const toolNamed = async (name: string): Promise<Tool | undefined> =>
    (await source.tools()).find((tool) => tool.name === name);
  let serverId: string;

  before(async () => {
    mcp = await McpTestServer.start();
    edge = await startInProcessEdge(
      {
        DATABASE_URL: await createTestDatabase('mcp'),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: uniqueQueuePrefix('mcp'),
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
      },
      { logger: logs.logger },
    );
    api = new ApiClient(edge.url);
    admin = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body.accessToken;
    user = (await api.signup('mcp-user')).accessToken;
    // The worker's source, built as a worker builds it (its shutdown step closes it with the edge).
    source = await createMcpToolSource({ ...edge.runtime, logger: logs.logger }, { retryAfterMs: 0 });
  });
  after(async () => {
    await edge?.stop();
    await mcp?.stop();
  });

  it('is for administrators only: a user gets 403 on every operation', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/admin/mcp-servers'],
      ['POST', '/api/v1/admin/mcp-servers'],
      ['GET', '/api/v1/admin/mcp-servers/01a2012f-5c3e-7a10-8b2c-4f1c2a3b4c5d'],
    ] as const) {
      const response = await call(method, path, {
        token: user,
        body: method === 'POST' ? { name: 'x', url: 'http://127.0.0.1/mcp' } : undefined,
      });
      expect(response.status, `${method} ${path}`).to.equal(403);
      expect(response.headers.get('content-type')).to.include('application/problem+json');
    }
    expect((await call('GET', '/api/v1/admin/mcp-servers', { token: undefined })).status).to.equal(401);
  });

  it('refuses bad input field by field, without echoing a header value', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'shop', url: 'ftp://127.0.0.1/mcp' }, 'body.url'],
      [{ name: 'shop', url: `http://user:${SECRET_TOKEN}@127.0.0.1/mcp` }, 'body.url'],
      [{ name: 'Shop__x', url: mcp.url }, 'body.name'],
      [
        { name: 'shop', url: mcp.url, headers: { 'X-Key': `${SECRET_TOKEN}\r\nInjected: 1` } },
        'body.headers.X-Key',
      ],
      [
        { name: 'shop', url: mcp.url, headers: { 'Mcp-Session-Id': SECRET_TOKEN } },
        'body.headers.Mcp-Session-Id',
      ],
      [{ name: 'shop', url: mcp.url, timeoutMs: 10 }, 'body.timeoutMs'],
    ];
    for (const [body, path] of cases) {
      const response = await call('POST', '/api/v1/admin/mcp-servers', { body });
      expect(response.status, JSON.stringify(response.body)).to.equal(400);
      expect(response.body.code).to.equal('validation_failed');
      expect(response.body.errors.map((error: { path: string }) => error.path)).to.include(path);
    }
    expect((await call('GET', '/api/v1/admin/mcp-servers')).body.items).to.deep.equal([]);
  });

  it('registers a server with write-only headers: answers name them, never show them', async () => {
    const created = await call('POST', '/api/v1/admin/mcp-servers', {
      body: {
        name: 'shop',
        url: mcp.url,
        headers: { Authorization: `Bearer ${SECRET_TOKEN}`, 'X-Tenant': SECRET_TENANT },
      },
    });
    expect(created.status).to.equal(201);
    serverId = created.body.id;
    expect(created.body).to.deep.include({
      name: 'shop',
      url: mcp.url,
      headerNames: ['Authorization', 'X-Tenant'],
      enabledTools: null,
      enabled: true,
      timeoutMs: 30_000,
    });
    expect(created.body).not.to.have.property('headers');
    const list = await call('GET', '/api/v1/admin/mcp-servers');
    expect(list.body.items.map((item: { id: string }) => item.id)).to.deep.equal([serverId]);
    const one = await call('GET', `/api/v1/admin/mcp-servers/${serverId}`);
    expect(one.body.headerNames).to.deep.equal(['Authorization', 'X-Tenant']);
    const duplicate = await call('POST', '/api/v1/admin/mcp-servers', {
      body: { name: 'shop', url: mcp.url, headers: { Authorization: SECRET_TOKEN } },
    });
    expect(duplicate.status).to.equal(409);
    expect(duplicate.body.code).to.equal('conflict');
    // Sealed at rest: the row holds neither value.
    const [row] = await edge.runtime.orm.em
      .fork()
      .getConnection()
      .execute<{ headers_sealed: string }[]>('select headers_sealed from mcp_servers');
    expect(row!.headers_sealed).to.match(/^v1\./);
    for (const secret of SECRETS) expect(row!.headers_sealed).not.to.include(secret);
  });

  it('refresh lists the server’s tools now, under their model names', async () => {
    const refreshed = await call('POST', `/api/v1/admin/mcp-servers/${serverId}/refresh`);
    expect(refreshed.status).to.equal(200);
    expect(refreshed.body.reachable).to.equal(true);
    expect(refreshed.body.tools.map((tool: { exposedName: string }) => tool.exposedName)).to.have.members([
      'shop__lookup_order',
      'shop__fail_always',
    ]);
  });

  it('offers each enabled tool as <server>__<tool> with the server’s schema', async () => {
    const tools = await source.tools();
    expect(tools.map((tool) => tool.name)).to.have.members(['shop__lookup_order', 'shop__fail_always']);
    const lookup = tools.find((tool) => tool.name === 'shop__lookup_order')!;
    expect(lookup.description).to.match(/^\[shop\] Looks up an order/);
    expect(lookup.parameters).to.deep.include({ type: 'object', required: ['orderId'] });
    expect(lookup.parameters.properties).to.have.property('orderId');
    expect(lookup.parameters).not.to.have.property('$schema');
    expect(lookup.timeoutMs).to.equal(30_000);
    for (const tool of tools) expect(tool.name).to.match(/^[a-zA-Z0-9_-]{1,64}$/);
  });

  it('calls the tool with the model’s arguments and the configured headers', async () => {
    const lookup = (await toolNamed('shop__lookup_order'))!;
    const before = mcp.calls.length;
    const outcome = await lookup.execute({ orderId: 'A-1001' }, context());
    expect(outcome.content).to.include('Order A-1001: shipped');
    expect(outcome.summary).to.match(/^shop answered: \d+ characters$/);
    const recorded = mcp.calls.slice(before);
    expect(recorded).to.have.length(1);
    expect(recorded[0]!.arguments).to.deep.equal({ orderId: 'A-1001' });
    expect(recorded[0]!.headers.authorization).to.equal(`Bearer ${SECRET_TOKEN}`);
    expect(recorded[0]!.headers['x-tenant']).to.equal(SECRET_TENANT);
  });

  it('turns an isError result and invalid arguments into errors the model reads', async () => {
    const failing = (await toolNamed('shop__fail_always'))!;
    const error = await failing.execute({}, context()).then(
      () => null,
      (thrown: Error) => thrown,
    );
    expect(error).to.be.instanceOf(McpToolError);
    expect(error!.message).to.include('the warehouse system is down');
    const lookup = (await toolNamed('shop__lookup_order'))!;
    const invalid = await lookup.execute({ orderId: 42 }, context()).then(
      () => null,
      (thrown: Error) => thrown,
    );
    expect(invalid, 'a schema violation is an error, not an answer').to.be.instanceOf(Error);
    const notObject = await lookup.execute('A-1001', context()).then(
      () => null,
      (thrown: Error) => thrown,
    );
    expect(notObject!.name).to.equal('ToolInputError');
  });

  it('applies an admin’s edit to a running source through the announcement', async () => {
    const lookup = (await toolNamed('shop__lookup_order'))!;
    let changed = once(source, 'change');
    const patched = await call('PATCH', `/api/v1/admin/mcp-servers/${serverId}`, {
      body: { enabledTools: ['fail_always'] },
    });
    expect(patched.status).to.equal(200);
    expect(patched.body.enabledTools).to.deep.equal(['fail_always']);
    expect(await changed).to.deep.equal([serverId]);
    expect((await source.tools()).map((tool) => tool.name)).to.deep.equal(['shop__fail_always']);
    // A tool offered before the edit is not called after it.
    const refused = await lookup.execute({ orderId: 'A-1002' }, context()).then(
      () => null,
      (thrown: Error) => thrown,
    );
    expect(refused).to.be.instanceOf(McpToolUnavailableError);
    expect(mcp.calls.some((recorded) => recorded.arguments.orderId === 'A-1002')).to.equal(false);

    // New headers reach the server on the next call (a new connection).
    changed = once(source, 'change');
    await call('PATCH', `/api/v1/admin/mcp-servers/${serverId}`, {
      body: { enabledTools: null, headers: { Authorization: `Bearer ${ROTATED_TOKEN}` } },
    });
    await changed;
    const renewed = (await toolNamed('shop__lookup_order'))!;
    await renewed.execute({ orderId: 'A-1003' }, context());
    const last = mcp.calls.at(-1)!;
    expect(last.arguments).to.deep.equal({ orderId: 'A-1003' });
    expect(last.headers.authorization).to.equal(`Bearer ${ROTATED_TOKEN}`);
    expect(last.headers).not.to.have.property('x-tenant');
    expect((await call('GET', `/api/v1/admin/mcp-servers/${serverId}`)).body.headerNames).to.deep.equal([
      'Authorization',
    ]);
  });

  it('degrades when the server is down: tools() still answers, calls are unavailable, readiness stays ready', async () => {
    const lookup = (await toolNamed('shop__lookup_order'))!;
    await mcp.stop();

    // Last-known tools are still offered, and a call says the tool is unavailable.
    const changed = once(source, 'change');
    const refreshed = await call('POST', `/api/v1/admin/mcp-servers/${serverId}/refresh`);
    await changed;
    expect(refreshed.status).to.equal(200);
    expect(refreshed.body.reachable).to.equal(false);
    expect(refreshed.body.error).to.be.a('string').and.not.empty;
    expect((await source.tools()).map((tool) => tool.name)).to.include('shop__lookup_order');
    const refused = await lookup.execute({ orderId: 'A-1004' }, context()).then(
      () => null,
      (thrown: Error) => thrown,
    );
    expect(refused).to.be.instanceOf(McpToolUnavailableError);
    expect(refused!.message).to.include('shop__lookup_order').and.include('unavailable');

    // A source that never saw the server answers too: with none of its tools.
    const box = edge.runtime.secrets;
    const fresh = new McpToolSource(
      { orm: edge.runtime.orm, box, logger: logs.logger },
      { listWaitMs: 1_000 },
    );
    expect(await fresh.tools()).to.deep.equal([]);
    expect(fresh.knownTools(serverId).error).to.be.a('string');
    await fresh.close();

    const ready = await fetch(`${edge.url}/health/ready`);
    const report = (await ready.json()) as {
      status: string;
      failing: string[];
      checks: Record<string, { status: string; details?: { servers: Record<string, unknown>[] } }>;
    };
    answers.push({ status: ready.status, headers: ready.headers, body: report });
    expect(ready.status).to.equal(200);
    expect(report.status).to.equal('ready');
    expect(report.failing).not.to.include('mcp');
    expect(report.checks.mcp!.status).to.equal('degraded');
    const [health] = report.checks.mcp!.details!.servers;
    expect(health).to.include({ name: 'shop', host: new URL(mcp.url).host, status: 'degraded' });
    expect(health!.error).to.be.a('string');
    expect(JSON.stringify(report)).not.to.include('/mcp'); // the host, not the URL
  });

  it('recovers when the server is back, and reports it healthy', async () => {
    await mcp.restart();
    const changed = once(source, 'change');
    const refreshed = await call('POST', `/api/v1/admin/mcp-servers/${serverId}/refresh`);
    await changed;
    expect(refreshed.body.reachable).to.equal(true);
    const lookup = (await toolNamed('shop__lookup_order'))!;
    expect((await lookup.execute({ orderId: 'A-1005' }, context())).content).to.include('A-1005');
    const report = (await (await fetch(`${edge.url}/health/ready`)).json()) as {
      checks: Record<string, { status: string }>;
    };
    expect(report.checks.mcp!.status).to.equal('ok');
  });

  it('removes a server: 204, then 404, and its tools are no longer offered', async () => {
    const changed = once(source, 'change');
    expect((await call('DELETE', `/api/v1/admin/mcp-servers/${serverId}`)).status).to.equal(204);
    await changed;
    expect(await source.tools()).to.deep.equal([]);
    expect((await call('GET', `/api/v1/admin/mcp-servers/${serverId}`)).status).to.equal(404);
    expect(
      (await call('PATCH', `/api/v1/admin/mcp-servers/${serverId}`, { body: { enabled: false } })).status,
    ).to.equal(404);
  });

  it('keeps a session with a stateful server, and connects again when the server lost it', async () => {
    const desk = await McpTestServer.start({ stateful: true });
    try {
      const changed = once(source, 'change');
      const created = await call('POST', '/api/v1/admin/mcp-servers', {
        body: { name: 'desk', url: desk.url, headers: { Authorization: `Bearer ${SECRET_TOKEN}` } },
      });
      expect(created.status).to.equal(201);
      await changed;
      const lookup = (await toolNamed('desk__lookup_order'))!;
      expect((await lookup.execute({ orderId: 'B-1' }, context())).content).to.include('B-1');
      expect((await lookup.execute({ orderId: 'B-2' }, context())).content).to.include('B-2');
      expect(desk.sessionCount).to.equal(1); // one client, one session, for listing and both calls

      // The server forgets its sessions: the next call gets 404, connects again and is sent once.
      desk.forgetSessions();
      expect((await lookup.execute({ orderId: 'B-3' }, context())).content).to.include('B-3');
      expect(desk.calls.filter((recorded) => recorded.arguments.orderId === 'B-3')).to.have.length(1);
      expect(desk.calls.at(-1)!.headers.authorization).to.equal(`Bearer ${SECRET_TOKEN}`);
      expect(desk.sessionCount).to.equal(1);

      // Down, then up again: unavailable meanwhile, and the next call connects anew.
      await desk.stop();
      const refused = await lookup.execute({ orderId: 'B-4' }, context()).then(
        () => null,
        (thrown: Error) => thrown,
      );
      expect(refused).to.be.instanceOf(McpToolUnavailableError);
      await desk.restart();
      expect((await lookup.execute({ orderId: 'B-5' }, context())).content).to.include('B-5');

      // The server's own "tools changed" notice reaches the source, which lists again.
      const toolsChanged = once(source, 'toolsChanged');
      desk.addTool('count_items');
      expect(await toolsChanged).to.deep.equal([created.body.id]);
      expect((await source.tools()).map((tool) => tool.name)).to.include('desk__count_items');
      expect((await call('DELETE', `/api/v1/admin/mcp-servers/${created.body.id}`)).status).to.equal(204);
    } finally {
      await desk.stop();
    }
  });

  it('never waits on a server that accepts connections and never answers', async () => {
    const sockets: Socket[] = [];
    const hanging = createServer((socket) => sockets.push(socket));
    await new Promise<void>((listening) => hanging.listen(0, '127.0.0.1', () => listening()));
    const hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/mcp`;
    try {
      let changed = once(source, 'change');
      const created = await call('POST', '/api/v1/admin/mcp-servers', {
        body: { name: 'slow', url: mcp.url },
      });
      await changed;
      const lookup = (await toolNamed('slow__lookup_order'))!;
      changed = once(source, 'change');
      await call('PATCH', `/api/v1/admin/mcp-servers/${created.body.id}`, { body: { url: hangingUrl } });
      await changed;

      // The list answers (bounded wait) without the tools of a server it can't list.
      const names = (await source.tools()).map((tool) => tool.name);
      expect(names).to.deep.equal([]);
      expect(source.knownTools(created.body.id).tools).to.equal(null);
      // A call in progress is abandoned as soon as the answer's signal aborts (cancel, timeout).
      const controller = new AbortController();
      const pending = lookup.execute({ orderId: 'C-1' }, { ...context(), signal: controller.signal });
      controller.abort(new Error('cancelled by the user'));
      const error = await pending.then(
        () => null,
        (thrown: Error) => thrown,
      );
      expect(error?.message).to.equal('cancelled by the user');
      expect(sockets.length, 'the source did reach the hanging server').to.be.greaterThan(0);
      expect((await call('DELETE', `/api/v1/admin/mcp-servers/${created.body.id}`)).status).to.equal(204);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((closed) => hanging.close(closed));
    }
  });

  it('calls a server in another process, and degrades when that process is killed', async () => {
    const remote = await ChildService.start('test/support/mcpTestServerMain.ts', {}, 'mcp listening');
    try {
      const { url } = (await remote.waitFor((line) => line.msg === 'mcp listening')) as { url: string };
      const changed = once(source, 'change');
      const created = await call('POST', '/api/v1/admin/mcp-servers', {
        body: {
          name: 'remote',
          url,
          headers: { Authorization: `Bearer ${SECRET_TOKEN}` },
          enabledTools: ['lookup_order'],
        },
      });
      await changed;
      expect((await source.tools()).map((tool) => tool.name)).to.deep.equal(['remote__lookup_order']);
      const lookup = (await toolNamed('remote__lookup_order'))!;
      expect((await lookup.execute({ orderId: 'D-1' }, context())).content).to.include('Order D-1');
      const seen = await remote.waitFor((line) => line.msg === 'tool call');
      expect(seen).to.deep.include({
        tool: 'lookup_order',
        arguments: { orderId: 'D-1' },
        authorization: `Bearer ${SECRET_TOKEN}`,
      });

      await remote.stop('SIGKILL');
      const refused = await lookup.execute({ orderId: 'D-2' }, context()).then(
        () => null,
        (thrown: Error) => thrown,
      );
      expect(refused).to.be.instanceOf(McpToolUnavailableError);
      expect((await call('DELETE', `/api/v1/admin/mcp-servers/${created.body.id}`)).status).to.equal(204);
    } finally {
      await remote.stop('SIGKILL');
    }
  });

  it('never let a header value into an API answer or a log line', () => {
    expect(answers.length).to.be.greaterThan(15);
    const everything = JSON.stringify(answers.map((answer) => answer.body));
    for (const secret of SECRETS) expect(everything).not.to.include(secret);
    // The logs did record this file's story (so the check below is not vacuous).
    expect(logs.lines.some((line) => line.includes('MCP server tools not listed'))).to.equal(true);
    expect(logs.lines.some((line) => line.includes('/api/v1/admin/mcp-servers'))).to.equal(true);
    for (const line of logs.lines) for (const secret of SECRETS) expect(line).not.to.include(secret);
  });
});
