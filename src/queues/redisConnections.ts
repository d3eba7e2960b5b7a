import { once } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

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

/** The one place Redis clients are made; remembers them all so shutdown can close each. */
export class RedisConnections {
  readonly url: string;
  private readonly clients = new Set<Redis>();
  private readonly logger: Logger;

  constructor(url: string | undefined, logger: Logger) {
    this.url = url ?? DEFAULT_REDIS_URL;
    this.logger = logger;
  }

  create(role: ConnectionRole, name: string, extra: RedisOptions = {}): Redis {
    const client = new Redis(this.url, {
      ...ROLE_OPTIONS[role],
      ...extra,
      connectionName: `parley:${name}`,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
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
async function closeGracefully(client: Redis): Promise<void> {
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
