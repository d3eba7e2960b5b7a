import { once } from 'node:events';
import { Cluster } from 'ioredis';
import type { RedisClient } from './redisConnections.ts';

/**
 * Every key matching `pattern`, in batches. A SCAN cursor belongs to one server, so on a cluster
 * each master is scanned in turn (its replicas hold the same keys); never KEYS, never one SCAN
 * across the cluster.
 */
export async function* scanKeys(client: RedisClient, pattern: string, count = 500): AsyncGenerator<string[]> {
  // A cluster client knows its masters once it has loaded the slot map.
  if (client instanceof Cluster && client.status !== 'ready') await once(client, 'ready');
  const servers = client instanceof Cluster ? client.nodes('master') : [client];
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}
