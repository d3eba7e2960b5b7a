import { type Config, ConfigError } from '../config.ts';

/**
 * The scale-out entry points share state across processes: the embedded PGlite database lives
 * inside one process, and every process must sign and verify tokens with the same secret.
 */
export function requireScaleOutSettings(config: Config, entry: string): Config {
  const problems: string[] = [];
  if (!config.database.url) {
    problems.push(
      `DATABASE_URL: required by ${entry}; the embedded database works only in the one-process \`npm start\``,
    );
  }
  if (!config.auth.jwtSecret) {
    problems.push(`JWT_SECRET: required by ${entry}; every edge and worker must share it`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
