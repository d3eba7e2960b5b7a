import type { DefaultJobOptions } from 'bullmq';
import type { QueueName } from '../config.ts';

const HOUR = 3_600;
const DAY = 24 * HOUR;

/**
 * Retry and retention per queue. Completed and failed jobs are bounded by age and count so
 * Redis stays small; Postgres, not Redis, is the record of what happened.
 */
export const QUEUE_DEFAULTS: Record<QueueName, DefaultJobOptions> = {
  chat: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { age: HOUR, count: 1_000 },
    removeOnFail: { age: 7 * DAY, count: 5_000 },
  },
  ingest: {
    // 5 s doubling: five retries span about two and a half minutes of a Postgres or Redis outage.
    attempts: 6,
    backoff: { type: 'exponential', delay: 5_000 },
    removeOnComplete: { age: DAY, count: 1_000 },
    removeOnFail: { age: 7 * DAY, count: 5_000 },
  },
  maintenance: {
    attempts: 2,
    backoff: { type: 'exponential', delay: 10_000 },
    removeOnComplete: { age: DAY, count: 200 },
    removeOnFail: { age: 7 * DAY, count: 1_000 },
  },
};
