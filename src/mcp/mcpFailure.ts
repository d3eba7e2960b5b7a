import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { headerRedactor, type McpServerConfig } from './McpServerConfig.ts';

/**
 * The server can't be used now (unreachable, refused, broken answer, headers unreadable). The
 * message is safe to log and show to operators: header values are redacted and URLs (which may
 * carry credentials in a query) replaced.
 */
export class McpUnavailableError extends Error {
  readonly serverName: string;
  constructor(serverName: string, reason: string) {
    super(reason);
    this.name = 'McpUnavailableError';
    this.serverName = serverName;
  }
}

/**
 * One line about what went wrong, safe for a log line, a health report or an admin's answer:
 * the server's header values never appear (a server may echo them in an error body), URLs don't
 * either, and it is short.
 */
export function describeFailure(error: unknown, server: Pick<McpServerConfig, 'headers'>): string {
  let text = error instanceof Error ? error.message : String(error);
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) text = `${text} (${cause.code})`;
  return headerRedactor(server)
    .redact(text)
    .split('\n')[0]!
    .replace(/\b[a-z][\w+.-]*:\/\/\S+/gi, '<url>')
    .slice(0, 200);
}

/** An error that means the connection (not the one request) is broken: drop it, connect again. */
export const breaksConnection = (error: unknown) =>
  !(error instanceof McpError) || error.code === ErrorCode.ConnectionClosed;

export const isTimeout = (error: unknown) =>
  error instanceof McpError && error.code === ErrorCode.RequestTimeout;
