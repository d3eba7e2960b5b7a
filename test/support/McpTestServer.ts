/**
 * McpTestServer: a real MCP server (the SDK's McpServer) over Streamable HTTP on a free local
 * port, for tests and benchmarks. It records every tool call with its arguments and the HTTP
 * headers it arrived with, so a test can check what Parley sent. Stateless (a server and a
 * transport per request, JSON answers), like many hosted MCP servers.
 *
 *   const mcp = await McpTestServer.start();
 *   // register mcp.url; tools: lookup_order {orderId}, fail_always {}
 *   await mcp.stop(); await mcp.restart();   // down, and up again on the same port
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface RecordedCall {
  tool: string;
  arguments: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

export class McpTestServer extends EventEmitter {
  /** Every tool call, in order. */
  readonly calls: RecordedCall[] = [];
  /** Headers of every HTTP request the server got (initialize, list, calls). */
  readonly requestHeaders: IncomingHttpHeaders[] = [];
  private server: Server;
  private port = 0;

  private constructor() {
    super();
    this.server = this.createHttpServer();
  }

  static async start(): Promise<McpTestServer> {
    const mcp = new McpTestServer();
    await mcp.listen(0);
    return mcp;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  /** Down: the port refuses connections until `restart`. */
  async stop(): Promise<void> {
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
    return server;
  }

  private record(tool: string, args: Record<string, unknown>, headers: RecordedCall['headers']): void {
    const call = { tool, arguments: args, headers };
    this.calls.push(call);
    this.emit('call', call);
  }
}
