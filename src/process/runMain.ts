import { ConfigError } from '../config.ts';
import { loadEnvFile } from './envFile.ts';
import { RedisUnavailableError } from './localRedis.ts';

/**
 * Runs an entry point, after reading `.env` (see envFile.ts) so every entry point sees the same
 * settings. Start-up failures that the operator can fix (bad settings, no Redis) print their
 * message alone and exit 1; anything else prints its stack.
 */
export function runMain(main: () => Promise<unknown>): void {
  Promise.resolve()
    .then(() => {
      loadEnvFile();
      return main();
    })
    .catch((error: unknown) => {
      if (error instanceof ConfigError || error instanceof RedisUnavailableError) {
        console.error(`parley: ${error.message}`);
      } else {
        console.error('parley: start-up failed:', error);
      }
      process.exit(1);
    });
}
