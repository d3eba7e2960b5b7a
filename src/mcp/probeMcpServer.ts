import { connectMcpServer } from './connectMcpServer.ts';
import type { McpServerConfig } from './McpServerConfig.ts';
import type { McpToolInfo } from './McpToolSource.ts';
import { describeFailure } from './mcpFailure.ts';

export interface McpProbeResult {
  reachable: boolean;
  tools: McpToolInfo[];
  /** Safe to show: header values redacted, no URLs. */
  error?: string;
  latencyMs: number;
  checkedAt: string;
}

/** Longest a probe may take, handshake and listing together. */
export const PROBE_TIMEOUT_MS = 5_000;

/** Connects afresh, lists the tools (first page) and disconnects: "does this server answer now?". */
export async function probeMcpServer(
  server: McpServerConfig,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<McpProbeResult> {
  const started = performance.now();
  const checkedAt = new Date().toISOString();
  const signal = AbortSignal.timeout(timeoutMs);
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const client = await connectMcpServer(server, { signal, timeoutMs });
    try {
      const { tools } = await client.listTools(undefined, { signal, timeout: timeoutMs });
      return { reachable: true, tools: tools as McpToolInfo[], latencyMs: elapsed(), checkedAt };
    } finally {
      await client.close().catch(() => {});
    }
  } catch (error) {
    return {
      reachable: false,
      tools: [],
      error: describeFailure(error, server),
      latencyMs: elapsed(),
      checkedAt,
    };
  }
}
