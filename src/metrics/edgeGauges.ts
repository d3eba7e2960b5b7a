import type { Queues } from '../queues/Queues.ts';
import type { RealtimeServer } from '../realtime/types.ts';
import type { Metrics } from './Metrics.ts';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

/** Gauges an edge keeps: its open sockets, and the queues' job counts (read at scrape time). */
export function watchEdgeGauges(metrics: Metrics, io: RealtimeServer, queues: Queues): void {
  io.on('connection', (socket) => {
    metrics.activeSockets.inc();
    socket.once('disconnect', () => metrics.activeSockets.dec());
  });
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
