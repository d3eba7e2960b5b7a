import { once } from 'node:events';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { HostPort } from '../config.ts';
import type { Logger } from '../logger.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** A client of one Redis or of a Redis Cluster: the commands Parley sends are the same on both. */
export type RedisClient = Redis | Cluster;

export type { HostPort };

/** Where Redis is: one server (`url`), or a cluster reached through any of its `clusterNodes`. */
export interface RedisTarget {
  url?: string;
  clusterNodes?: HostPort[];
}

/**
 * What a connection is for decides how it behaves when Redis is away:
 * - `command`: the edge's producer and health checks. Fail fast (no offline queue, one retry),
 *   so a request never hangs on a dead Redis and readiness reports it at once.
 * - `blocking`: BullMQ workers and queue events. BullMQ requires maxRetriesPerRequest null;
 *   they wait and reconnect for as long as it takes.
 * - `pubsub`: the Socket.IO adapter's publish and subscribe pair and the emitter; reconnects
 *   forever and queues while away, so an emit during a blip is delayed, not thrown.
 */
export type ConnectionRole = 'command' | 'blocking' | 'pubsub';

const ROLE_OPTIONS: Record<ConnectionRole, RedisOptions> = {
  command: { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 },
  blocking: { maxRetriesPerRequest: null, enableReadyCheck: true },
  pubsub: { maxRetriesPerRequest: null },
};

const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2_000);

/**
 * On a cluster the role's options go to every node connection (`redisOptions`); the cluster
 * client itself keeps trying to reach the cluster however long it is away, and follows a
 * failover (MOVED, CLUSTERDOWN and TRYAGAIN are retried after a short delay).
 */
const clusterOptions = (
  role: ConnectionRole,
  { enableOfflineQueue, retryStrategy: _ownReconnects, ...nodeOptions }: RedisOptions,
): ClusterOptions => ({
  // A node's connection keeps ioredis's cluster defaults: it queues until connected (the fail-fast
  // choice is the cluster client's), and it does not reconnect by itself: a dead master's
  // connection is dropped with its queued commands retried elsewhere once the new map is known.
  redisOptions: nodeOptions,
  enableOfflineQueue: enableOfflineQueue ?? true,
  enableReadyCheck: true,
  clusterRetryStrategy: reconnectDelay,
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 200,
  retryDelayOnTryAgain: 200,
  // A failover changes which node serves a slot; learn the new map soon after.
  slotsRefreshInterval: 2_000,
  slotsRefreshTimeout: 2_000,
  // Workers, pub/sub and the relay keep commands through a failover; the edge's fail fast.
  maxRedirections: role === 'command' ? 4 : 64,
});

/** The one place Redis clients are made; remembers them all so shutdown can close each. */
export class RedisConnections {
  readonly url: string;
  readonly clusterNodes?: HostPort[];
  private readonly clients = new Set<RedisClient>();
  private readonly logger: Logger;

  /** A URL (one Redis) or a target that may name a cluster; a cluster wins when both are given. */
  constructor(target: string | RedisTarget | undefined, logger: Logger) {
    const resolved = typeof target === 'string' ? { url: target } : (target ?? {});
    this.url = resolved.url ?? DEFAULT_REDIS_URL;
    this.clusterNodes = resolved.clusterNodes?.length ? resolved.clusterNodes : undefined;
    this.logger = logger;
  }

  /** True when every client is a Redis Cluster client. */
  get cluster(): boolean {
    return this.clusterNodes !== undefined;
  }

  create(role: ConnectionRole, name: string, extra: RedisOptions = {}): RedisClient {
    const nodeOptions: RedisOptions = {
      ...ROLE_OPTIONS[role],
      ...extra,
      connectionName: `parley:${name}`,
      retryStrategy: reconnectDelay,
    };
    const client: RedisClient = this.clusterNodes
      ? new Cluster(this.clusterNodes, {
          ...clusterOptions(role, nodeOptions),
          enableAutoPipelining: extra.enableAutoPipelining ?? false,
        })
      : new Redis(this.url, nodeOptions);
    // Without a listener ioredis prints every reconnect error; log each outage once per client.
    let down = false;
    client.on('error', (error: Error) => {
      if (!down) this.logger.warn({ redis: name, err: error.message }, 'redis connection error');
      down = true;
    });
    client.on('ready', () => {
      if (down) this.logger.info({ redis: name }, 'redis connection restored');
      down = false;
    });
    client.on('end', () => this.clients.delete(client));
    this.clients.add(client);
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.clients].map(closeGracefully));
    this.clients.clear();
  }
}

/** How long closing waits for a connection still being made, or for QUIT's reply. */
const CLOSE_WAIT_MS = 2_000;

/**
 * QUIT lets pending replies arrive; on a connection that is down it would wait forever, so cut it.
 * A connection still being made gets CLOSE_WAIT_MS to finish first: cutting it rejects the
 * commands queued meanwhile, and some have no handler (the Socket.IO adapter's subscriptions),
 * which would crash a process stopped right after it started.
 */
async function closeGracefully(client: RedisClient): Promise<void> {
  if (client.status === 'connecting' || client.status === 'connect') {
    await Promise.race([
      once(client, 'ready').catch(() => undefined),
      new Promise((done) => setTimeout(done, CLOSE_WAIT_MS).unref()),
    ]);
  }
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  const quit = client.quit().then(
    () => true,
    () => false,
  );
  const inTime = await Promise.race([
    quit,
    new Promise<boolean>((done) => setTimeout(done, CLOSE_WAIT_MS, false).unref()),
  ]);
  if (!inTime) client.disconnect();
}

/** True when something answers PING at `url` within the timeout. */
export async function redisAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * The readiness probe of a Redis role: PING on one Redis; on a cluster, `cluster_state:ok` and
 * a PING from every master the client knows, since one master away takes its slots (perhaps a
 * queue's) with it until its replica is promoted and the client has learnt the new map.
 */
export async function checkRedis(client: RedisClient): Promise<Record<string, unknown> | undefined> {
  if (!(client instanceof Cluster)) {
    const answer = await client.ping();
    if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`);
    return undefined;
  }
  const info = String(await client.cluster('INFO'));
  const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
  if (state !== 'ok') throw new Error(`cluster_state is ${state}`);
  const masters = client.nodes('master');
  const answers = await Promise.allSettled(masters.map((node) => node.ping()));
  const silent = answers.filter((answer) => answer.status === 'rejected').length;
  if (silent > 0) throw new Error(`${silent} of ${masters.length} cluster masters do not answer`);
  return { masters: masters.length };
}
