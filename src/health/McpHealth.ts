import type { Orm } from '../db/orm.ts';
import { type McpServerConfig, readMcpServers } from '../mcp/McpServerConfig.ts';
import { type McpProbeResult, probeMcpServer } from '../mcp/probeMcpServer.ts';
import type { SecretBox } from '../secrets/SecretBox.ts';

export interface McpServerHealth {
  name: string;
  /** The host only: a URL's path or query may carry what operators should not pass around. */
  host: string;
  status: 'ok' | 'degraded';
  tools?: number;
  error?: string;
  checkedAt: string | null;
}

export interface McpStatus {
  status: 'ok' | 'degraded';
  error?: string;
  servers: McpServerHealth[];
}

/** How long readiness waits for a probe it has no result for (a new or edited server). */
const FIRST_PROBE_WAIT_MS = 1_500;

interface Probed {
  connectionKey: string;
  at: number;
  result: McpProbeResult;
}

/**
 * Whether the enabled MCP servers answer, for /health/ready: advisory (an MCP outage degrades
 * answers to "tool unavailable", it doesn't take the API down). Each server is probed at most
 * once per `intervalMs` however often readiness is asked; a stale result is served while a fresh
 * probe runs. An admin's refresh (POST …/refresh) records its probe here too, so the report
 * follows it at once. Never a header value: errors come redacted from describeFailure.
 */
export class McpHealth {
  private readonly orm: Orm;
  private readonly box: SecretBox;
  private readonly intervalMs: number;
  private readonly results = new Map<string, Probed>();
  private readonly probing = new Map<string, Promise<void>>();

  constructor(deps: { orm: Orm; box: SecretBox }, intervalMs = 60_000) {
    this.orm = deps.orm;
    this.box = deps.box;
    this.intervalMs = intervalMs;
  }

  /** Null when no MCP server is enabled: nothing to report. */
  async status(): Promise<McpStatus | null> {
    let servers: McpServerConfig[];
    try {
      servers = await readMcpServers(this.orm.em.fork(), this.box);
    } catch (error) {
      return { status: 'degraded', error: `servers not read: ${(error as Error).message}`, servers: [] };
    }
    if (servers.length === 0) return null;
    await Promise.all(
      servers.map(async (server) => {
        const known = this.results.get(server.id);
        const current = known?.connectionKey === server.connectionKey ? known : undefined;
        if (current && Date.now() - current.at < this.intervalMs) return;
        const probe = this.probe(server);
        if (!current)
          await Promise.race([probe, new Promise((done) => setTimeout(done, FIRST_PROBE_WAIT_MS).unref())]);
      }),
    );
    const reports = servers.map((server) => this.report(server));
    return {
      status: reports.every((report) => report.status === 'ok') ? 'ok' : 'degraded',
      servers: reports,
    };
  }

  /** A probe made elsewhere (an admin's refresh) counts as this server's latest check. */
  record(server: Pick<McpServerConfig, 'id' | 'connectionKey'>, result: McpProbeResult): void {
    this.results.set(server.id, { connectionKey: server.connectionKey, at: Date.now(), result });
  }

  private probe(server: McpServerConfig): Promise<void> {
    let running = this.probing.get(server.id);
    if (!running) {
      running = probeMcpServer(server)
        .then((result) => this.record(server, result))
        .finally(() => this.probing.delete(server.id));
      this.probing.set(server.id, running);
    }
    return running;
  }

  private report(server: McpServerConfig): McpServerHealth {
    const known = this.results.get(server.id);
    const host = URL.canParse(server.url) ? new URL(server.url).host : 'invalid URL';
    if (!known || known.connectionKey !== server.connectionKey)
      return {
        name: server.name,
        host,
        status: 'degraded',
        error: 'the first check is still running',
        checkedAt: null,
      };
    const { result } = known;
    return {
      name: server.name,
      host,
      status: result.reachable ? 'ok' : 'degraded',
      ...(result.reachable ? { tools: result.tools.length } : { error: result.error }),
      checkedAt: result.checkedAt,
    };
  }
}
