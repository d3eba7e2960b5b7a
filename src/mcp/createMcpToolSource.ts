import type { Runtime } from '../runtime.ts';
import { SecretBox } from '../secrets/SecretBox.ts';
import { McpToolSource, type McpToolSourceOptions } from './McpToolSource.ts';

/**
 * The worker's MCP tool source, wired: it opens headers with the shared secret, hears admins'
 * changes on Redis, and closes its connections at shutdown. One per worker process.
 */
export async function createMcpToolSource(
  runtime: Pick<Runtime, 'config' | 'logger' | 'orm' | 'redis' | 'shutdown'>,
  options: McpToolSourceOptions = {},
): Promise<McpToolSource> {
  const { config, logger, orm, redis, shutdown } = runtime;
  const source = new McpToolSource({ orm, box: await SecretBox.fromConfig(config), logger }, options);
  await source.listen(redis.create('pubsub', 'mcp-subscriber'), config.redis.queuePrefix);
  shutdown.add('connections', 'MCP clients', () => source.close());
  return source;
}
