import { type Job, QueueEvents } from 'bullmq';
import type { Runtime } from '../../src/compose/runtime.ts';
import type { QueueName } from '../../src/config.ts';

/**
 * Waits (on BullMQ's queue events, not on time) until a job is finished, and returns its
 * return value. A job is marked completed just after its last socket event, so tests that
 * count per-job effects wait for this too.
 */
export async function jobFinished(runtime: Runtime, queue: QueueName, job: Job | string): Promise<unknown> {
  const found = typeof job === 'string' ? await runtime.queues.get(queue).getJob(job) : job;
  if (!found) throw new Error(`no ${queue} job ${String(job)}`);
  const events = new QueueEvents(queue, {
    connection: runtime.redis.create('blocking', 'events'),
    prefix: runtime.queues.bullmqPrefix,
  });
  try {
    await events.waitUntilReady();
    return await found.waitUntilFinished(events);
  } finally {
    await events.close();
  }
}
