import { type JobsOptions, Queue } from 'bullmq';
import { QUEUE_NAMES, type QueueName } from '../config.ts';
import type { RedisConnections } from '../redis/connections.ts';
import { bullmqPrefix } from '../redis/keys.ts';
import { JOB_OPTIONS, type JobName, type JobPayload, QUEUE_DEFAULTS } from './jobs.ts';

/** The producer side of all three queues, typed by the job catalog. */
export class Queues {
  /** The namespace of Parley's keys and channels (QUEUE_PREFIX). */
  readonly prefix: string;
  /** BullMQ's prefix: the namespace, hash-tagged on a cluster (src/redis/keys.ts). */
  readonly bullmqPrefix: string;
  private readonly queues: Record<QueueName, Queue>;

  constructor(connections: RedisConnections, prefix: string) {
    this.prefix = prefix;
    this.bullmqPrefix = bullmqPrefix(prefix, connections.cluster);
    // One fail-fast connection shared by the producers: enqueueing answers at once when Redis is away.
    const connection = connections.create('command', 'producer');
    this.queues = Object.fromEntries(
      QUEUE_NAMES.map((name) => [
        name,
        new Queue(name, { connection, prefix: this.bullmqPrefix, defaultJobOptions: QUEUE_DEFAULTS[name] }),
      ]),
    ) as Record<QueueName, Queue>;
  }

  get(name: QueueName): Queue {
    return this.queues[name];
  }

  all(): Queue[] {
    return Object.values(this.queues);
  }

  add<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    name: N,
    payload: JobPayload<Q, N>,
    options?: JobsOptions,
  ) {
    const perJob = (JOB_OPTIONS[queue] as Record<string, JobsOptions | undefined>)[name];
    return this.queues[queue].add(name, payload, { ...perJob, ...options });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all().map((queue) => queue.close()));
  }
}
