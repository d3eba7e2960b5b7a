import { type Config, ConfigError } from '../config.ts';

/**
 * The embedded PGlite database lives inside one process, so the scale-out entry points need a
 * real Postgres that every process can reach.
 */
export function requireSharedDatabase(config: Config, entry: string): Config {
  if (!config.database.url) {
    throw new ConfigError([
      `DATABASE_URL: required by ${entry}; the embedded database works only in the one-process \`npm start\``,
    ]);
  }
  return config;
}
