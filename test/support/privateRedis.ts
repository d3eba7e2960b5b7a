import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from '../../src/process/freePort.ts';

/** A redis-server of the test's own, on a free port, so a test can take it away. */
export class PrivateRedis {
  readonly url: string;
  private readonly child: ChildProcess;

  private constructor(port: number, child: ChildProcess) {
    this.url = `redis://127.0.0.1:${port}`;
    this.child = child;
  }

  static async start(): Promise<PrivateRedis> {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    // redis-server says when it accepts connections; wait for that line, not for time.
    await new Promise<void>((ready, failed) => {
      child.once('exit', (code) => failed(new Error(`redis-server exited with ${code}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('Ready to accept connections')) ready();
      });
    });
    return new PrivateRedis(port, child);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((done) => this.child.once('exit', done));
    this.child.kill('SIGKILL');
    await exited;
  }
}
