import type { Logger } from '../logger.ts';
import type { RedisClient } from './connections.ts';

/**
 * Listens on a channel where processes announce a change to something others cache (settings,
 * model providers, MCP servers). Calls `onChange(message)` for each announcement, and
 * `onChange(null)` (anything may have changed) after the subscriber reconnects: announcements sent
 * while it was away are lost (ioredis subscribes again by itself). Resolves once subscribed; never
 * rejects (a failure is logged as "<what> changes not subscribed").
 */
export function listenForAnnouncements(
  subscriber: RedisClient,
  channel: string,
  what: string,
  logger: Logger,
  onChange: (message: string | null) => void,
): Promise<void> {
  const subscribed = subscriber.subscribe(channel).then(
    () => {},
    (error: Error) => logger.warn({ err: error.message }, `${what} changes not subscribed`),
  );
  subscriber.on('message', (from: string, message: string) => {
    if (from === channel) onChange(message);
  });
  let connectedOnce = subscriber.status === 'ready';
  subscriber.on('ready', () => {
    if (connectedOnce) onChange(null);
    connectedOnce = true;
  });
  return subscribed;
}
