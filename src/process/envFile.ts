import { ConfigError } from '../config.ts';

/**
 * Reads a `.env` file into `process.env` before an entry point reads its configuration, so the
 * settings copied from `.env.example` take effect without a process manager. The file is
 * PARLEY_ENV_FILE, default `.env` in the current directory; PARLEY_ENV_FILE set to an empty value
 * turns loading off (the tests' child processes do, so a developer's `.env` can't leak into them).
 *
 * Variables already in the environment win: Node's `process.loadEnvFile` never overrides one that
 * is set, even to an empty value. A missing default `.env` is normal; a missing file that
 * PARLEY_ENV_FILE names explicitly stops start-up, because the operator asked for it.
 *
 * Returns the file that was read, or undefined when none was.
 */
export function loadEnvFile(
  env: NodeJS.ProcessEnv = process.env,
  load: (path: string) => void = (path) => process.loadEnvFile(path),
): string | undefined {
  const named = env.PARLEY_ENV_FILE;
  if (named === '') return undefined;
  const path = named ?? '.env';
  try {
    load(path);
    return path;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (named === undefined && code === 'ENOENT') return undefined;
    // The file's name and the error code only: its contents are secrets.
    throw new ConfigError([`PARLEY_ENV_FILE: cannot read ${path} (${code ?? 'unreadable'})`]);
  }
}
