import { openRuntime } from '../src/compose/runtime.ts';
import { loadConfig, type QueueName } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { serveWorkerMetrics } from '../src/metrics/metricsServer.ts';
import { requireScaleOutSettings } from '../src/process/requireScaleOutSettings.ts';
import { runMain } from '../src/process/runMain.ts';
import { Shutdown } from '../src/process/Shutdown.ts';
import { startWorkers } from './startWorkers.ts';

/** A worker process for the given queues (default: WORKER_QUEUES). */
export function runWorkerProcess(queues?: QueueName[]): void {
  runMain(async () => {
    const config = requireScaleOutSettings(loadConfig(), 'start:worker');
    const logger = createLogger(config.logLevel, 'parley-worker');
    const shutdown = new Shutdown(logger);
    shutdown.exitOnSignals();
    const runtime = await openRuntime(config, logger, shutdown);
    if (config.metrics.workerPort)
      serveWorkerMetrics(runtime.metrics, config.metrics.workerPort, config.metrics.token, runtime);
    await startWorkers(runtime, queues ?? config.workers.queues);
  });
}
