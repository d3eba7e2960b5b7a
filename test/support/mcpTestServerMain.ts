/**
 * McpTestServer in a process of its own, for tests that need the MCP server outside the test
 * process (kill -9 it, or reach it from a worker process). Speaks JSON lines on stdout, read by
 * ChildService: `{ msg: 'mcp listening', url }`, then `{ msg: 'tool call', tool, arguments,
 * authorization }` per call. `MCP_STATEFUL=1` keeps sessions.
 *
 *   const mcp = await ChildService.start('test/support/mcpTestServerMain.ts', {}, 'mcp listening');
 */
import { McpTestServer, type RecordedCall } from './McpTestServer.ts';

const server = await McpTestServer.start({ stateful: process.env.MCP_STATEFUL === '1' });
const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
server.on('call', (call: RecordedCall) =>
  say({
    msg: 'tool call',
    tool: call.tool,
    arguments: call.arguments,
    authorization: call.headers.authorization,
  }),
);
say({ msg: 'mcp listening', url: server.url });
process.once('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
