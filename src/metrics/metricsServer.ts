import { createServer } from 'node:http';
import type { Logger } from '../logger.ts';
import type { Shutdown } from '../process/Shutdown.ts';
import type { Metrics } from './Metrics.ts';

/** A worker process has no HTTP edge: it serves its own /metrics on a port of its own. */
export function serveWorkerMetrics(
  metrics: Metrics,
  port: number,
  token: string | undefined,
  deps: { logger: Logger; shutdown: Shutdown },
) {
  const server = createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer' }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': metrics.contentType }).end(await metrics.exposition());
  });
  server.listen(port, () => deps.logger.info({ port }, 'worker metrics listening'));
  deps.shutdown.add('intake', 'worker metrics', () => new Promise((closed) => server.close(closed)));
}
