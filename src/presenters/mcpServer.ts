import type { McpServerRegistration } from '../db/entities/McpServerRegistration.ts';

export interface McpServerPresentation {
  id: string;
  name: string;
  url: string;
  /** Which headers are set; their values are write-only. */
  headerNames: string[];
  enabledTools: string[] | null;
  enabled: boolean;
  timeoutMs: number;
  createdAt: string;
  updatedAt: string;
}

/** The API shape of a registered MCP server: header names, never their values. */
export const presentMcpServer = (server: McpServerRegistration): McpServerPresentation => ({
  id: server.id,
  name: server.name,
  url: server.url,
  headerNames: server.headerNames,
  enabledTools: server.enabledTools ?? null,
  enabled: server.enabled,
  timeoutMs: server.timeoutMs,
  createdAt: server.createdAt.toISOString(),
  updatedAt: server.updatedAt.toISOString(),
});
