import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpServerConfig } from './McpServerConfig.ts';
import { describeFailure, McpUnavailableError } from './mcpFailure.ts';

/** How Parley introduces itself to MCP servers. */
const CLIENT_INFO = { name: 'parley', version: '0.1.0' };

/** Longest the handshake (initialize) may take. */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * An SDK client connected to one server over Streamable HTTP, with the server's headers on every
 * request. Redirects are followed only within the same origin (the SDK's default), so the headers
 * never travel to another host. `onToolsChanged` runs when the server announces a new tool list.
 */
export async function connectMcpServer(
  server: McpServerConfig,
  options: { signal?: AbortSignal; timeoutMs?: number; onToolsChanged?: () => void } = {},
): Promise<Client> {
  if (server.unreadableHeaders) {
    throw new McpUnavailableError(
      server.name,
      'its stored headers cannot be opened (was JWT_SECRET changed?); set them again',
    );
  }
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: server.headers },
    redirectPolicy: 'same-origin',
    // The standalone notification stream is optional: give up on it quickly when it breaks.
    reconnectionOptions: {
      initialReconnectionDelay: 1_000,
      maxReconnectionDelay: 10_000,
      reconnectionDelayGrowFactor: 2,
      maxRetries: 2,
    },
  });
  const onToolsChanged = options.onToolsChanged;
  const client = new Client(CLIENT_INFO, {
    capabilities: {},
    ...(onToolsChanged
      ? { listChanged: { tools: { autoRefresh: false, debounceMs: 100, onChanged: () => onToolsChanged() } } }
      : {}),
  });
  // Transport errors also surface as failed requests; the SDK's default would print them.
  client.onerror = () => {};
  try {
    await client.connect(transport, {
      signal: options.signal,
      timeout: options.timeoutMs ?? CONNECT_TIMEOUT_MS,
    });
    return client;
  } catch (error) {
    await client.close().catch(() => {});
    throw new McpUnavailableError(server.name, describeFailure(error, server));
  }
}
