import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../src/process/freePort.ts';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../scripts/pgbouncer.sh', import.meta.url));

/**
 * A PgBouncer of the suite's own in transaction pooling mode (scripts/pgbouncer.sh: a temp dir,
 * a free port, every database passed through to the local server), so a suite can point
 * DATABASE_URL at it and size its pool (1 makes every client share one server connection).
 */
export class PrivatePgBouncer {
  readonly port: number;
  private readonly dir: string;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  static async start(
    options: { poolSize?: number; upstream?: string; queueWaitSeconds?: number } = {},
  ): Promise<PrivatePgBouncer> {
    const port = await freePort();
    const args = ['start', '--port', String(port), '--pool-size', String(options.poolSize ?? 20)];
    if (options.queueWaitSeconds) args.push('--query-wait-timeout', String(options.queueWaitSeconds));
    if (options.upstream) args.push('--upstream', options.upstream);
    // The script returns once PgBouncer answers a query, and prints `dir=… port=… url=…`.
    const { stdout } = await run('bash', [SCRIPT, ...args]);
    const dir = /dir=(\S+)/.exec(stdout)?.[1];
    if (!dir) throw new Error(`scripts/pgbouncer.sh start said: ${stdout}`);
    return new PrivatePgBouncer(port, dir);
  }

  /** The same database, user and options as `databaseUrl`, reached through this PgBouncer. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async stop(): Promise<void> {
    await run('bash', [SCRIPT, 'stop', '--dir', this.dir]);
  }
}
