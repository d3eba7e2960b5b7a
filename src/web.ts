import { startEdge } from './compose/edge.ts';
import { openRuntime } from './compose/runtime.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { requireScaleOutSettings } from './process/requireScaleOutSettings.ts';
import { runMain } from './process/runMain.ts';
import { Shutdown } from './process/Shutdown.ts';

/** `npm run start:web`: an edge node only; run as many as you like behind a load balancer. */
runMain(async () => {
  const config = requireScaleOutSettings(loadConfig(), 'start:web');
  const logger = createLogger(config.logLevel, 'parley-web');
  const shutdown = new Shutdown(logger);
  shutdown.exitOnSignals();
  await startEdge(await openRuntime(config, logger, shutdown));
});
