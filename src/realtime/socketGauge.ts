import type { Metrics } from '../metrics/Metrics.ts';
import type { RealtimeServer } from './types.ts';

/** The edge's open sockets, as a gauge that follows connects and disconnects. */
export function countSockets(metrics: Metrics, io: RealtimeServer): void {
  io.on('connection', (socket) => {
    metrics.activeSockets.inc();
    socket.once('disconnect', () => metrics.activeSockets.dec());
  });
}
