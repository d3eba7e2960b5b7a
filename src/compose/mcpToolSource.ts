import { McpToolSource, type McpToolSourceOptions } from '../mcp/McpToolSource.ts';
import type { Runtime } from './runtime.ts';

/**
 * The worker's MCP tool source, wired: it opens headers with the shared secret, hears admins'
 * changes on Redis, and closes its connections at shutdown. One per worker process.
 */
export async function createMcpToolSource(
  runtime: Pick<Runtime, 'config' | 'logger' | 'orm' | 'redis' | 'shutdown' | 'secrets'>,
  options: McpToolSourceOptions = {},
): Promise<McpToolSource> {
  const { config, logger, orm, redis, shutdown, secrets } = runtime;
  const source = new McpToolSource({ orm, box: secrets, logger }, options);
  await source.listen(redis.create('pubsub', 'mcp-subscriber'), config.redis.queuePrefix);
  shutdown.add('connections', 'MCP clients', () => source.close());
  return source;
}
