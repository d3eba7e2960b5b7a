import { loadConfig } from './config.ts';
import { openDatabase } from './db/orm.ts';
import { createLogger } from './logger.ts';
import { runMain } from './process/runMain.ts';

/** `npm run migrate`: apply pending migrations and exit (start-up does the same). */
runMain(async () => {
  const config = loadConfig();
  const orm = await openDatabase(config, createLogger(config.logLevel, 'parley-migrate'));
  await orm.close();
});
