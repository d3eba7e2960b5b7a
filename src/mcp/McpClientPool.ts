import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connectMcpServer } from './connectMcpServer.ts';
import type { McpServerConfig } from './McpServerConfig.ts';
import { breaksConnection, describeFailure, McpUnavailableError } from './mcpFailure.ts';

interface Entry {
  connectionKey: string;
  client: Promise<Client>;
}

/**
 * One SDK client per server, connected when first needed and shared by every answer in the
 * process. A client whose connection broke is dropped, and the next use connects again; a
 * registration whose URL or headers changed gets a new client.
 */
export class McpClientPool {
  private readonly entries = new Map<string, Entry>();
  private readonly onToolsChanged: (serverId: string) => void;

  constructor(options: { onToolsChanged?: (serverId: string) => void } = {}) {
    this.onToolsChanged = options.onToolsChanged ?? (() => {});
  }

  /**
   * Runs `request` with the server's client. A broken connection is dropped and the error comes
   * back as McpUnavailableError; a reused session the server no longer knows (it restarted) is
   * connected again and the request sent once more: the server never saw the first one.
   */
  async use<T>(
    server: McpServerConfig,
    signal: AbortSignal | undefined,
    request: (client: Client) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const entry = this.entry(server);
      let client: Client;
      try {
        client = await untilAborted(entry.client, signal);
      } catch (error) {
        if (signal?.aborted) throw error;
        this.drop(server.id, entry);
        throw error instanceof McpUnavailableError
          ? error
          : new McpUnavailableError(server.name, describeFailure(error, server));
      }
      try {
        return await request(client);
      } catch (error) {
        if (signal?.aborted || !breaksConnection(error)) throw error;
        this.drop(server.id, entry);
        const sessionLost = error instanceof StreamableHTTPError && error.code === 404;
        if (sessionLost && attempt === 1) continue;
        throw new McpUnavailableError(server.name, describeFailure(error, server));
      }
    }
  }

  /** Closes the client of a server (removed, or its registration changed). */
  forget(serverId: string): void {
    const entry = this.entries.get(serverId);
    if (entry) this.drop(serverId, entry);
  }

  async close(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((entry) => entry.client.then((client) => client.close()).catch(() => {})));
  }

  private entry(server: McpServerConfig): Entry {
    const existing = this.entries.get(server.id);
    if (existing?.connectionKey === server.connectionKey) return existing;
    if (existing) this.drop(server.id, existing);
    const entry: Entry = {
      connectionKey: server.connectionKey,
      // Not tied to this caller's signal: the connection outlives the answer that opened it.
      client: connectMcpServer(server, { onToolsChanged: () => this.onToolsChanged(server.id) }),
    };
    entry.client.then(
      (client) => {
        client.onclose = () => {
          if (this.entries.get(server.id) === entry) this.entries.delete(server.id);
        };
      },
      () => {},
    );
    this.entries.set(server.id, entry);
    return entry;
  }

  private drop(serverId: string, entry: Entry): void {
    if (this.entries.get(serverId) === entry) this.entries.delete(serverId);
    entry.client.then((client) => client.close()).catch(() => {});
  }
}

/** The promise, or the signal's reason as soon as it aborts (the promise itself goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
