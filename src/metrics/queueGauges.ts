import type { Queues } from '../queues/Queues.ts';
import type { Metrics } from './Metrics.ts';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

/** The queues' job counts per state, read at scrape time (an edge serves them). */
export function watchQueueGauges(metrics: Metrics, queues: Queues): void {
  metrics.trackQueueJobs(async () => {
    const perQueue = await Promise.all(
      queues
        .all()
        .map(async (queue) => ({ queue: queue.name, counts: await queue.getJobCounts(...JOB_STATES) })),
    );
    return perQueue.flatMap(({ queue, counts }) =>
      JOB_STATES.map((state) => ({ queue, state, count: counts[state] ?? 0 })),
    );
  });
}
