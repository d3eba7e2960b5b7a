import { once } from 'node:events';
import { Cluster } from 'ioredis';
import type { RedisClient } from './connections.ts';

/**
 * What a Redis Cluster changes, in one place: publishes that must keep their order go through one
 * master (ordered publishes), scans go master by master. (The hash-tagged BullMQ prefix is a key
 * rule: src/redis/keys.ts; the cluster client's options: src/redis/connections.ts.)
 */

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

/** What the Socket.IO emitter needs of a Redis client. */
export interface Publisher {
  publish(channel: string, message: string | Buffer): Promise<number>;
}

/**
 * A publisher whose messages arrive in the order they were published. On one Redis that is the
 * client itself. A cluster client sends each PUBLISH (it has no key) to a node picked at random,
 * so a token could overtake the one before it, or chat:done the last token; and any node
 * broadcasts a PUBLISH to the whole cluster, so all of them go through one master instead: the
 * first by address, the same one while the cluster's map stays as it is.
 */
export function orderedPublisher(client: RedisClient): Publisher {
  if (!(client instanceof Cluster)) return client;
  const node = () => {
    const masters = client.nodes('master');
    if (masters.length === 0) return client; // the map isn't loaded yet: the client queues the command
    const address = (server: (typeof masters)[number]) => `${server.options.host}:${server.options.port}`;
    return masters.reduce((first, server) => (address(server) < address(first) ? server : first));
  };
  // The emitter leaves a publish's promise unhandled: it must never reject. A master dying drops
  // its connection with what it had queued; those go again through the cluster client (any node),
  // and one that still fails is lost live (the answer's replay log has it for a resume).
  return {
    publish: (channel, message) =>
      node()
        .publish(channel, message)
        .catch(() => client.publish(channel, message))
        .catch(() => 0),
  };
}
