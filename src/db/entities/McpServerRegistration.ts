import { defineEntity, p } from '@mikro-orm/core';
import { createdAtColumn, idColumn, updatedAtColumn } from '../columns.ts';

/**
 * An MCP server an admin registered (Streamable HTTP). Its tools are offered to the model as
 * `<name>__<tool>`. The headers it is called with are secrets: stored sealed (src/secrets/SecretBox.ts),
 * only their names in the clear, so the API can say which headers are set without revealing one.
 */
export const McpServerRegistrationSchema = defineEntity({
  name: 'McpServerRegistration',
  tableName: 'mcp_servers',
  properties: {
    id: idColumn(),
    /** Slug, unique: the prefix of its tools' names. */
    name: p.string().length(32).unique(),
    url: p.text(),
    /** The headers as sealed JSON (AES-256-GCM); null when none are set. Never presented. */
    headersSealed: p.text().nullable().hidden().lazy(),
    headerNames: p.json<string[]>(),
    /** The tools (by the server's own names) offered to the model; null: all of them. */
    enabledTools: p.json<string[]>().nullable(),
    enabled: p.boolean().default(true),
    /** Longest one tool call may take. */
    timeoutMs: p.integer().default(30_000),
    createdAt: createdAtColumn(),
    updatedAt: updatedAtColumn(),
  },
});

export class McpServerRegistration extends McpServerRegistrationSchema.class {}
McpServerRegistrationSchema.setClass(McpServerRegistration);
