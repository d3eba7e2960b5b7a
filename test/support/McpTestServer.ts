/**
 * McpTestServer: a real MCP server (the SDK's McpServer) over Streamable HTTP on a free local
 * port, for tests and benchmarks. It records every tool call with its arguments and the HTTP
 * headers it arrived with, so a test can check what Parley sent. Stateless by default (a server
 * and a transport per request, JSON answers), like many hosted MCP servers; `{ stateful: true }`
 * keeps sessions (Mcp-Session-Id) and a notification stream, as the SDK's own examples do.
 *
 *   const mcp = await McpTestServer.start();
 *   // register mcp.url; tools: lookup_order {orderId}, fail_always {}, and three that quote the
 *   // Authorization header's token back with `{ echoesCredentials: true }` (as an isError text, a
 *   // thrown error, a plain answer): check_access {}, check_access_throws {}, whoami {}
 *   await mcp.stop(); await mcp.restart();   // down, and up again on the same port (sessions lost)
 *   mcp.addTool('count_items');               // stateful: connected clients get tools/list_changed
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface RecordedCall {
  tool: string;
  arguments: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

export interface McpTestServerOptions {
  stateful?: boolean;
  /** Adds the tools that quote the Authorization header back (a careless or hostile server). */
  echoesCredentials?: boolean;
}

export class McpTestServer extends EventEmitter {
  /** Every tool call, in order. */
  readonly calls: RecordedCall[] = [];
  /** Headers of every HTTP request the server got (initialize, list, calls). */
  readonly requestHeaders: IncomingHttpHeaders[] = [];
  private server: Server;
  private port = 0;
  private readonly stateful: boolean;
  private readonly echoesCredentials: boolean;
  /** Stateful mode: live sessions (lost on restart, like a real server's memory). */
  private readonly sessions = new Map<
    string,
    { transport: StreamableHTTPServerTransport; server: McpServer }
  >();
  private readonly extraTools: string[] = [];

  private constructor(options: McpTestServerOptions) {
    super();
    this.stateful = options.stateful ?? false;
    this.echoesCredentials = options.echoesCredentials ?? false;
    this.server = this.createHttpServer();
  }

  static async start(options: McpTestServerOptions = {}): Promise<McpTestServer> {
    const mcp = new McpTestServer(options);
    await mcp.listen(0);
    return mcp;
  }

  /** Number of sessions the server holds now (stateful mode). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Stateful mode: forgets every session while the port stays open, as a restarted server behind
   * a proxy does: the next request with an old Mcp-Session-Id gets 404.
   */
  forgetSessions(): void {
    for (const { server } of this.sessions.values()) void server.close();
    this.sessions.clear();
  }

  /** A new tool `name` (answers "<name> done"); connected sessions are told their list changed. */
  addTool(name: string): void {
    this.extraTools.push(name);
    // Registering on a connected McpServer sends notifications/tools/list_changed by itself.
    for (const { server } of this.sessions.values()) this.registerExtra(server, name);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  /** Down: the port refuses connections until `restart`. */
  async stop(): Promise<void> {
    for (const { transport, server } of this.sessions.values()) {
      void transport.close();
      void server.close();
    }
    this.sessions.clear();
    if (!this.server.listening) return;
    const closed = new Promise<void>((done) => this.server.close(() => done()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Up again on the same port. */
  async restart(): Promise<void> {
    this.server = this.createHttpServer();
    await this.listen(this.port);
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((listening, failed) => {
      this.server.once('error', failed);
      this.server.listen(port, '127.0.0.1', () => listening());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  private createHttpServer(): Server {
    return createServer((req, res) => {
      this.requestHeaders.push(req.headers);
      if (this.stateful) {
        this.handleStateful(req, res);
        return;
      }
      if (req.method !== 'POST' || !req.url?.startsWith('/mcp')) {
        // Stateless: no standalone notification stream, no session to delete.
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      const server = this.mcpServer();
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      server
        .connect(transport)
        .then(() => transport.handleRequest(req, res))
        .catch(() => {
          if (!res.headersSent) res.writeHead(500).end();
        });
    });
  }

  private handleStateful(req: IncomingMessage, res: ServerResponse): void {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = this.sessions.get(sessionId);
      if (!session) {
        // What the SDK's examples answer for a session the server doesn't hold (e.g. after a restart).
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }),
        );
        return;
      }
      void session.transport.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(400).end();
      return;
    }
    const server = this.mcpServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { transport, server });
      },
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
  }

  private registerExtra(server: McpServer, name: string): void {
    server.registerTool(name, { description: `The ${name} tool.`, inputSchema: {} }, async (_args, extra) => {
      this.record(name, {}, extra.requestInfo?.headers ?? {});
      return { content: [{ type: 'text', text: `${name} done` }] };
    });
  }

  private mcpServer(): McpServer {
    const server = new McpServer({ name: 'parley-test-mcp', version: '1.0.0' });
    server.registerTool(
      'lookup_order',
      {
        description: 'Looks up an order by its id and says where it is.',
        inputSchema: { orderId: z.string().describe('The order id, e.g. A-1001') },
      },
      async ({ orderId }, extra) => {
        this.record('lookup_order', { orderId }, extra.requestInfo?.headers ?? {});
        return {
          content: [{ type: 'text', text: `Order ${orderId}: shipped on 2026-11-30, arriving 2026-12-02.` }],
        };
      },
    );
    server.registerTool(
      'fail_always',
      { description: 'Always fails (for error paths).', inputSchema: {} },
      async (_args, extra) => {
        this.record('fail_always', {}, extra.requestInfo?.headers ?? {});
        return { isError: true, content: [{ type: 'text', text: 'the warehouse system is down' }] };
      },
    );
    if (this.echoesCredentials) this.registerEchoes(server);
    for (const name of this.extraTools) this.registerExtra(server, name);
    return server;
  }

  /** Tools that reject a credential by quoting it: what Parley must never pass on. */
  private registerEchoes(server: McpServer): void {
    const tokenOf = (headers: RecordedCall['headers']) =>
      String(headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    server.registerTool(
      'check_access',
      { description: 'Checks access (answers isError quoting the token).', inputSchema: {} },
      async (_args, extra) => {
        const headers = extra.requestInfo?.headers ?? {};
        this.record('check_access', {}, headers);
        return {
          isError: true,
          content: [{ type: 'text', text: `access denied for token ${tokenOf(headers)}` }],
        };
      },
    );
    server.registerTool(
      'check_access_throws',
      { description: 'Checks access (throws, quoting the token).', inputSchema: {} },
      async (_args, extra) => {
        const headers = extra.requestInfo?.headers ?? {};
        this.record('check_access_throws', {}, headers);
        throw new Error(`access denied for token ${tokenOf(headers)}`);
      },
    );
    server.registerTool(
      'whoami',
      { description: 'Says who is calling (quotes the whole header).', inputSchema: {} },
      async (_args, extra) => {
        const headers = extra.requestInfo?.headers ?? {};
        this.record('whoami', {}, headers);
        return {
          content: [{ type: 'text', text: `you called with Authorization: ${headers.authorization}` }],
        };
      },
    );
  }

  private record(tool: string, args: Record<string, unknown>, headers: RecordedCall['headers']): void {
    const call = { tool, arguments: args, headers };
    this.calls.push(call);
    this.emit('call', call);
  }
}
