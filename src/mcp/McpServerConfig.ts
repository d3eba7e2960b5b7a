import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { McpServerRegistration } from '../db/entities/McpServerRegistration.ts';
import { Redactor } from '../secrets/Redactor.ts';
import { type SecretBox, UnreadableSecretError } from '../secrets/SecretBox.ts';

/** One registered server as the MCP code uses it: headers opened, never to be logged or shown. */
export interface McpServerConfig {
  id: string;
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The server's own tool names offered to the model; null: all. */
  enabledTools: string[] | null;
  enabled: boolean;
  timeoutMs: number;
  /** Changes when the URL or headers do: a connection made for other ones is replaced. In memory only. */
  connectionKey: string;
  /** The stored headers can't be opened (JWT_SECRET changed): unusable until they are set again. */
  unreadableHeaders: boolean;
}

/** The header values of a registration, opened; `unreadable` when the key no longer fits. */
export function openHeaders(
  box: SecretBox,
  row: Pick<McpServerRegistration, 'id' | 'headersSealed'>,
): { headers: Record<string, string>; unreadable: boolean } {
  if (!row.headersSealed) return { headers: {}, unreadable: false };
  try {
    return {
      headers: JSON.parse(box.open(row.headersSealed, row.id)) as Record<string, string>,
      unreadable: false,
    };
  } catch (error) {
    if (error instanceof UnreadableSecretError) return { headers: {}, unreadable: true };
    throw error;
  }
}

/** Hides the server's header values (and their tokens) in whatever text the server sends back. */
export const headerRedactor = (server: Pick<McpServerConfig, 'headers'>): Redactor =>
  Redactor.of(Object.values(server.headers));

export const sealHeaders = (box: SecretBox, id: string, headers: Record<string, string>): string | null =>
  Object.keys(headers).length === 0 ? null : box.seal(JSON.stringify(headers), id);

export function toServerConfig(box: SecretBox, row: McpServerRegistration): McpServerConfig {
  const { headers, unreadable } = openHeaders(box, row);
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    headers,
    enabledTools: row.enabledTools ?? null,
    enabled: row.enabled,
    timeoutMs: row.timeoutMs,
    connectionKey: createHash('sha256')
      .update(row.url)
      .update('\n')
      .update(JSON.stringify(headers))
      .digest('hex'),
    unreadableHeaders: unreadable,
  };
}

/** The registered servers (the enabled ones unless said otherwise), oldest first. */
export async function readMcpServers(
  em: EntityManager,
  box: SecretBox,
  options: { enabledOnly?: boolean } = {},
): Promise<McpServerConfig[]> {
  const rows = await em.find(McpServerRegistration, options.enabledOnly === false ? {} : { enabled: true }, {
    orderBy: { id: 'asc' },
    populate: ['headersSealed'],
  });
  return rows.map((row) => toServerConfig(box, row));
}
