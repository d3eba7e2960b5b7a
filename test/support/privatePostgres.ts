import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/process/freePort.ts';

const run = promisify(execFile);

/** The newest server binaries installed the Debian way (/usr/lib/postgresql/N/bin). */
function serverBin(): string {
  const versions = readdirSync('/usr/lib/postgresql', { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0)
    throw new Error('No PostgreSQL server under /usr/lib/postgresql: run `bash scripts/services.sh`.');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/**
 * A PostgreSQL server of the test's own (initdb in a temp folder, a free port, trust auth), so a
 * test can stop and start it without touching the shared one. Postgres refuses to run as root,
 * so as root the server runs as the `postgres` user that Debian's package creates. The `vector`
 * extension comes from the same installation as the shared server's.
 */
export class PrivatePostgres {
  readonly url: string;
  private readonly bin: string;
  private readonly dataDir: string;
  private readonly root: string;
  private readonly port: number;

  private constructor(bin: string, root: string, port: number) {
    this.bin = bin;
    this.root = root;
    this.dataDir = join(root, 'data');
    this.port = port;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  static async start(): Promise<PrivatePostgres> {
    const root = mkdtempSync(join(tmpdir(), 'parley-pg-'));
    chmodSync(root, 0o777);
    const server = new PrivatePostgres(serverBin(), root, await freePort());
    await server.asServerUser(`${server.bin}/initdb`, [
      '-D',
      server.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    await server.resume();
    return server;
  }

  /** Starts the server and returns once it accepts connections (pg_ctl -w waits for that). */
  async resume(): Promise<void> {
    await this.asServerUser(`${this.bin}/pg_ctl`, [
      '-D',
      this.dataDir,
      '-w',
      '-l',
      join(this.root, 'server.log'),
      '-o',
      `-p ${this.port} -k ${this.root} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  }

  /** Stops it at once, as a crash or a network loss looks to clients: open connections break. */
  async halt(): Promise<void> {
    await this.asServerUser(`${this.bin}/pg_ctl`, ['-D', this.dataDir, '-w', '-m', 'immediate', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.halt().catch(() => {});
    rmSync(this.root, { recursive: true, force: true });
  }

  private async asServerUser(command: string, args: string[]): Promise<void> {
    const asRoot = process.getuid?.() === 0;
    await run(asRoot ? 'runuser' : command, asRoot ? ['-u', 'postgres', '--', command, ...args] : args, {
      cwd: this.root,
    });
  }
}
