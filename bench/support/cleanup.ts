import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/**
 * What a benchmark must undo at exit (databases, keys, child processes), run in reverse order on
 * success, failure, Ctrl-C or an uncaught error. `add` returns a function that undoes one thing now.
 */
export class Cleanups {
  interrupted = false;
  private readonly name: string;
  private readonly entries: { label: string; run: () => unknown }[] = [];
  private running?: Promise<void>;

  constructor(name: string) {
    this.name = name;
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      process.once(signal, () => {
        this.interrupted = true;
        console.error(`\n${signal}: stopping everything the ${name} benchmark started…`);
        void this.runAll().finally(() => process.exit(code));
      });
    }
    // A closed stdout (`| head`) or a bug must not skip the cleanup.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    process.on('uncaughtException', (error) => {
      console.error(`${name} benchmark: uncaught ${error.stack ?? error}`);
      process.exitCode = 1;
      void this.runAll().finally(() => process.exit(1));
    });
  }

  add(label: string, run: () => unknown): () => Promise<void> {
    const entry = { label, run };
    this.entries.push(entry);
    return async () => {
      const index = this.entries.indexOf(entry);
      if (index < 0) return;
      this.entries.splice(index, 1);
      await run();
    };
  }

  /**
   * Runs a benchmark's main function, reports a failure, always cleans up, and makes sure a
   * stray handle can't keep the process alive afterwards.
   */
  async run(main: () => Promise<void>): Promise<void> {
    try {
      await main();
    } catch (error) {
      if (!this.interrupted) {
        console.error(`${this.name} benchmark failed: ${(error as Error).stack ?? error}`);
        process.exitCode = 1;
      }
    } finally {
      await this.runAll();
    }
    setTimeout(() => {
      console.error(`${this.name} benchmark: handles still open after cleanup; exiting`);
      process.exit(process.exitCode ?? 0);
    }, 5_000).unref();
  }

  runAll(): Promise<void> {
    this.running ??= (async () => {
      for (const { label, run } of this.entries.splice(0).reverse()) {
        try {
          await run();
        } catch (error) {
          console.error(`cleanup (${label}) failed: ${(error as Error).message}`);
        }
      }
    })();
    return this.running;
  }
}

export function nproc(): string {
  try {
    return execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    return String(availableParallelism());
  }
}

export const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** One line: cores, CPU, memory, node, load average now. */
export function machineFacts(): string {
  return `nproc ${nproc()}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load average ${loadAverage()}`;
}

/** Refuses to run against anything but this machine. */
export function requireLocal(urls: Record<string, string>): void {
  for (const [name, url] of Object.entries(urls)) {
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) {
      console.error(`${name} points at ${new URL(url).hostname}: the benchmark talks to 127.0.0.1 only`);
      process.exit(2);
    }
  }
}

/** A flag's integer value, or exit 2 with a message naming the flag. */
export function integerFlag(name: string, raw: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

/** A flag's number value in [min, max], or exit 2. */
export function numberFlag(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(`--${name}: expected a number from ${min} to ${max}, got "${raw}"`);
    process.exit(2);
  }
  return value;
}
