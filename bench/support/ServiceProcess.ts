import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * A Parley entry point in a child process, for the benchmark. Unlike test/support/ChildService it
 * does not wait for an info log line (the benchmark runs the services at LOG_LEVEL=warn, where
 * 'edge listening' and 'workers started' are not printed): readiness is the caller's business.
 * It keeps the last lines of output and counts warn/error log lines, for the report.
 */
export class ServiceProcess {
  readonly name: string;
  readonly process: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly tail: string[] = [];
  warnings = 0;
  errors = 0;

  private readonly lineListeners = new Set<(line: string) => void>();

  /** `nodeArgs` go to node before the script (e.g. `--cpu-prof`). */
  constructor(
    name: string,
    script: string,
    env: Record<string, string>,
    cwd: string,
    args: string[] = [],
    nodeArgs: string[] = [],
  ) {
    this.name = name;
    this.process = spawn(process.execPath, [...nodeArgs, script, ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.process.stdout! }).on('line', (line) => this.receive(line));
    createInterface({ input: this.process.stderr! }).on('line', (line) => this.receive(line, true));
    this.exited = new Promise((resolve) =>
      this.process.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number {
    return this.process.pid!;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Rejects when the process exits: race it against anything that waits on the process. */
  failOnExit(): Promise<never> {
    return this.exited.then(({ code, signal }) => {
      throw new Error(
        `${this.name} exited (code ${code}, signal ${signal}); last output:\n${this.tail.join('\n')}`,
      );
    });
  }

  /** Resolves with the first output line (from now on) that `match` accepts; rejects on exit or timeout. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    let listener!: (line: string) => void;
    let timer: NodeJS.Timeout | undefined;
    const found = new Promise<string>((resolve, reject) => {
      listener = (line) => {
        if (match(line)) resolve(line);
      };
      this.lineListeners.add(listener);
      timer = setTimeout(
        () => reject(new Error(`${this.name}: no such line after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([found, this.failOnExit()]).finally(() => {
      clearTimeout(timer);
      this.lineListeners.delete(listener);
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 15_000): Promise<Exit> {
    if (this.running) this.process.kill('SIGTERM');
    const exit = await Promise.race([this.exited, sleep(graceMs, undefined, { ref: false })]);
    if (exit) return exit;
    if (this.running) this.process.kill('SIGKILL');
    return this.exited;
  }

  private receive(line: string, stderr = false): void {
    this.tail.push(line);
    for (const listener of this.lineListeners) listener(line);
    if (this.tail.length > 40) this.tail.shift();
    let level = stderr ? 50 : 0;
    if (line.startsWith('{')) {
      try {
        level = Number((JSON.parse(line) as { level?: unknown }).level) || level;
      } catch {
        // not a log line
      }
    }
    if (level >= 50) this.errors += 1;
    else if (level >= 40) this.warnings += 1;
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls `url` until it answers 200, or throws after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}
