import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freePort } from '../../src/process/freePort.ts';

const run = promisify(execFile);

/** How long a master may be silent before the cluster fails it over (small: tests wait on it). */
const NODE_TIMEOUT_MS = 1_000;

interface Node {
  port: number;
  busPort: number;
  child: ChildProcess;
}

/**
 * A Redis Cluster of the test run's own: three masters and three replicas on free ports, data in
 * a temporary directory, so tests never depend on (or disturb) a machine-wide cluster, and a test
 * may kill a master to watch its replica take over.
 */
export class PrivateCluster {
  private readonly nodes: Node[];
  private readonly directory: string;

  private constructor(nodes: Node[], directory: string) {
    this.nodes = nodes;
    this.directory = directory;
  }

  /** `host:port,…` of every node, as REDIS_CLUSTER_NODES takes it. */
  get nodeList(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  get hostPorts(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  static async start(): Promise<PrivateCluster> {
    const directory = await mkdtemp(join(tmpdir(), 'parley-cluster-'));
    // Twelve distinct free ports: six for clients, six for the cluster bus (by default port + 10000,
    // which may not exist for a high free port).
    const ports = new Set<number>();
    while (ports.size < 12) ports.add(await freePort());
    const [clientPorts, busPorts] = [[...ports].slice(0, 6), [...ports].slice(6)];
    const nodes = await Promise.all(
      clientPorts.map((port, index) => startNode(directory, port, busPorts[index]!)),
    );
    const cluster = new PrivateCluster(nodes, directory);
    try {
      await run('redis-cli', [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ]);
      await cluster.untilHealthy();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /**
   * Resolves once every living node says cluster_state:ok, every slot is served and each master
   * has a replica that is up, polled (the cluster converges by gossip; there is no event to wait on).
   */
  async untilHealthy(replicas = 3, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.healthy(replicas)) return;
      if (Date.now() > deadline) throw new Error('the private Redis Cluster did not become healthy');
      await new Promise((done) => setTimeout(done, 100));
    }
  }

  private async healthy(replicas: number): Promise<boolean> {
    const living = this.nodes.filter(
      (node) => node.child.exitCode === null && node.child.signalCode === null,
    );
    const states = await Promise.all(living.map((node) => this.command(node.port, ['cluster', 'info'])));
    if (!states.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info)))
      return false;
    // A replica can take over only once it has synced with its master.
    const replication = await Promise.all(
      living.map((node) => this.command(node.port, ['info', 'replication'])),
    );
    const attached = replication.filter(
      (info) => /role:slave/.test(info) && /master_link_status:up/.test(info),
    ).length;
    return attached >= replicas;
  }

  /** The port of the master serving `key`'s slot right now. */
  async masterOf(key: string): Promise<number> {
    const slot = Number(await this.command(this.anyLiving().port, ['cluster', 'keyslot', key]));
    const shards = (await this.ask(this.anyLiving().port, ['cluster', 'slots'])) as [
      number,
      number,
      [string, number, string],
    ][];
    const owner = shards.find(([first, last]) => slot >= first && slot <= last);
    if (!owner) throw new Error(`no master serves slot ${slot}`);
    return owner[2][1];
  }

  /** kill -9 of the node on `port`; resolves when the process is gone. */
  async kill(port: number): Promise<void> {
    const node = this.nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`no node on ${port}`);
    if (node.child.exitCode !== null || node.child.signalCode !== null) return;
    const exited = new Promise((done) => node.child.once('exit', done));
    node.child.kill('SIGKILL');
    await exited;
  }

  /**
   * Starts the killed node on `port` again with its old data directory: its nodes.conf makes it
   * rejoin the cluster, as a replica of the master that took over from it. Resolves once it
   * accepts connections; `untilHealthy` tells when it has synced.
   */
  async restart(port: number): Promise<void> {
    const node = this.nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`no node on ${port}`);
    if (node.child.exitCode === null && node.child.signalCode === null) return;
    const restarted = await startNode(this.directory, port, node.busPort);
    node.child = restarted.child;
  }

  /** Resolves once `port`'s old replica serves as master: the failover has happened. */
  async untilPromotedAway(port: number, key: string, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const master = await this.masterOf(key).catch(() => port);
      if (master !== port) return master;
      if (Date.now() > deadline) throw new Error(`no replica took over from ${port}`);
      await new Promise((done) => setTimeout(done, 100));
    }
  }

  /** A plain cluster client for a test's own reads and cleanup. */
  client(): Cluster {
    return new Cluster(this.hostPorts, { redisOptions: { maxRetriesPerRequest: null } });
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        if (node.child.exitCode !== null || node.child.signalCode !== null) return;
        const exited = new Promise((done) => node.child.once('exit', done));
        node.child.kill('SIGKILL');
        await exited;
      }),
    );
    await rm(this.directory, { recursive: true, force: true });
  }

  /** Synchronous last resort for `process.on('exit')`: no redis-server outlives the run. */
  killNow(): void {
    for (const node of this.nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
  }

  private anyLiving(): Node {
    const node = this.nodes.find(
      (candidate) => candidate.child.exitCode === null && candidate.child.signalCode === null,
    );
    if (!node) throw new Error('every node of the private cluster is down');
    return node;
  }

  private async ask(port: number, args: string[]): Promise<unknown> {
    const connection = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    connection.on('error', () => {});
    try {
      await connection.connect();
      return await connection.call(args[0]!, ...args.slice(1));
    } finally {
      connection.disconnect();
    }
  }

  private async command(port: number, args: string[]): Promise<string> {
    return String(await this.ask(port, args).catch(() => ''));
  }
}

async function startNode(directory: string, port: number, busPort: number): Promise<Node> {
  const dir = join(directory, String(port));
  await run('mkdir', ['-p', dir]);
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--cluster-port',
      String(busPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(NODE_TIMEOUT_MS),
      // However long a replica was away from its master, it may take over (tests kill masters).
      '--cluster-replica-validity-factor',
      '0',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // redis-server says when it accepts connections; wait for that line, not for time.
  await new Promise<void>((ready, failed) => {
    child.once('exit', (code) => failed(new Error(`redis-server on ${port} exited with ${code}`)));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.includes('Ready to accept connections')) ready();
    });
  });
  // Keep reading its log so a full pipe never blocks the server.
  child.stdout!.resume();
  return { port, busPort, child };
}
