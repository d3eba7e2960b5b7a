import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { TEST_EMBEDDING_ENV } from './services.ts';

export interface LogLine {
  msg?: string;
  [key: string]: unknown;
}

/**
 * A Parley entry point (`src/web.ts`, `workers/index.ts`, …) in a real child process, with its
 * JSON log lines readable as events: tests wait on what the process says, never on the clock.
 */
export class ChildService {
  readonly process: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  private readonly waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(script: string, env: Record<string, string>) {
    this.process = spawn(process.execPath, [script], {
      // PARLEY_ENV_FILE empty: the child reads no .env, so a developer's settings can't leak in.
      env: { ...process.env, PARLEY_ENV_FILE: '', LOG_LEVEL: 'info', ...TEST_EMBEDDING_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.process.stdout! }).on('line', (text) => this.receive(text));
    createInterface({ input: this.process.stderr! }).on('line', (text) => this.stderr.push(text));
    this.exited = new Promise((resolve) =>
      this.process.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Starts `script` and resolves once it logs `readyMessage`; rejects if it exits first. */
  static async start(
    script: string,
    env: Record<string, string>,
    readyMessage: string,
  ): Promise<ChildService> {
    const child = new ChildService(script, env);
    await Promise.race([
      child.waitFor((line) => line.msg === readyMessage),
      child.exited.then(({ code }) => {
        throw new Error(
          `${script} exited with ${code} before "${readyMessage}":\n${child.stderr.join('\n')}`,
        );
      }),
    ]);
    return child;
  }

  /** An edge (`src/web.ts`) on a free port of 127.0.0.1, with the URL it listens on. */
  static async startEdge(env: Record<string, string>): Promise<{ edge: ChildService; url: string }> {
    const edge = await ChildService.start(
      'src/web.ts',
      { ...env, PORT: '0', HOST: '127.0.0.1' },
      'edge listening',
    );
    const { port } = await edge.waitFor((line) => line.msg === 'edge listening');
    return { edge, url: `http://127.0.0.1:${port}` };
  }

  get pid(): number {
    return this.process.pid!;
  }

  waitFor(match: (line: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
    return this.exited;
  }

  private receive(text: string) {
    let line: LogLine;
    try {
      line = JSON.parse(text);
    } catch {
      line = { msg: text };
    }
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(line)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }
}
