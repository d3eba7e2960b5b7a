import type { Logger } from '../logger.ts';
import { listenForAnnouncements } from '../redis/announcements.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { mcpServersChannel } from '../redis/keys.ts';

/**
 * An admin's edit of an MCP server, announced to every process that caches servers or their
 * tools (the same path as settings: src/settings/SettingsCache.ts). The message is the server's
 * id; a lost one is covered by the caches' maximum age.
 */

export const publishMcpServerChanged = (redis: Redis, prefix: string, serverId: string) =>
  redis.publish(mcpServersChannel(prefix), serverId);

/**
 * Calls `onChange(serverId)` for each announcement, and `onChange(null)` (everything may have
 * changed) after the subscriber reconnects, since announcements sent meanwhile are lost. Resolves
 * once subscribed (never rejects: a failure is logged, and the caches' maximum age still applies).
 */
export function listenForMcpServerChanges(
  subscriber: Redis,
  prefix: string,
  logger: Logger,
  onChange: (serverId: string | null) => void,
): Promise<void> {
  return listenForAnnouncements(subscriber, mcpServersChannel(prefix), 'MCP server', logger, onChange);
}
