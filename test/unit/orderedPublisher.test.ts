import { expect } from 'chai';
import { Cluster } from 'ioredis';
import { orderedPublisher } from '../../src/redis/cluster.ts';

/**
 * The interleaving a failover makes, step by step: messages sent to a master that dies are
 * rejected only after newer ones were published, by which time the cluster's map names another
 * master. The nodes are stand-ins whose replies the test releases (no Redis can be told to die
 * between two given commands); what is checked is the order the cluster would broadcast.
 */
class Node {
  readonly pending: { message: string; accept: () => void; reject: (error: Error) => void }[] = [];
  private dead = false;
  private readonly waiters: { count: number; done: () => void }[] = [];
  readonly port: number;
  private readonly broadcast: string[];
  constructor(port: number, broadcast: string[]) {
    this.port = port;
    this.broadcast = broadcast;
  }
  /** Resolves once `count` commands wait for this node's reply. */
  untilPending(count: number): Promise<void> {
    if (this.pending.length >= count) return Promise.resolve();
    return new Promise((done) => this.waiters.push({ count, done }));
  }
  get options() {
    return { host: '127.0.0.1', port: this.port };
  }
  publish(_channel: string, message: string | Buffer): Promise<number> {
    if (this.dead) return Promise.reject(new Error('Connection is closed.'));
    return new Promise((resolve, reject) => {
      queueMicrotask(() => {
        for (const waiter of this.waiters.filter((candidate) => this.pending.length >= candidate.count))
          waiter.done();
      });
      this.pending.push({
        message: String(message),
        accept: () => {
          this.broadcast.push(String(message));
          resolve(1);
        },
        reject,
      });
    });
  }
  acceptAll() {
    for (const command of this.pending.splice(0)) command.accept();
  }
  die() {
    this.dead = true;
    for (const command of this.pending.splice(0)) command.reject(new Error('Connection is closed.'));
  }
}

/** A cluster client whose masters the test sets; PUBLISH without a node goes to a random one. */
function fakeCluster(masters: () => Node[], random: () => Node): Cluster {
  const client = Object.create(Cluster.prototype) as Cluster;
  Object.assign(client, {
    nodes: () => masters(),
    publish: (channel: string, message: string) => random().publish(channel, message),
  });
  return client;
}

describe('relay: publishing in order through a Redis Cluster failover', () => {
  it('sends nothing past messages in doubt: what the dead master rejected goes first, then chat:done', async () => {
    const broadcast: string[] = [];
    const a = new Node(7000, broadcast);
    const b = new Node(7001, broadcast);
    const c = new Node(7002, broadcast);
    let masters = [a, b];
    const publisher = orderedPublisher(
      fakeCluster(
        () => masters,
        () => c,
      ),
    );

    const results = ['token 1', 'token 2'].map((message) => publisher.publish('room', message));
    // a dies; the map is refreshed (b is the first master now) before a's connection rejects.
    masters = [b];
    results.push(publisher.publish('room', 'done'));
    a.die();
    // The three are sent again: to b in order (they went two ways before: done to b, the tokens to
    // any node, so b's reply could broadcast done first).
    await Promise.race([b.untilPending(3), Promise.all([b.untilPending(1), c.untilPending(2)])]);
    b.acceptAll();
    c.acceptAll();
    expect(await Promise.all(results)).to.deep.equal([1, 1, 1]);
    expect(broadcast).to.deep.equal(['token 1', 'token 2', 'done']);
  });

  it('keeps the order when the node it retries on fails too', async () => {
    const broadcast: string[] = [];
    const a = new Node(7000, broadcast);
    const b = new Node(7001, broadcast);
    const c = new Node(7002, broadcast);
    let masters = [a, b, c];
    const publisher = orderedPublisher(
      fakeCluster(
        () => masters,
        () => c,
      ),
    );

    const results = [publisher.publish('room', 'token 1')];
    a.acceptAll();
    results.push(publisher.publish('room', 'token 2'), publisher.publish('room', 'token 3'));
    masters = [b, c];
    a.die();
    await b.untilPending(2);
    results.push(publisher.publish('room', 'token 4'));
    await b.untilPending(3);
    masters = [c];
    b.die();
    results.push(publisher.publish('room', 'done'));
    await c.untilPending(4);
    c.acceptAll();
    expect(await Promise.all(results)).to.deep.equal([1, 1, 1, 1, 1]);
    expect(broadcast).to.deep.equal(['token 1', 'token 2', 'token 3', 'token 4', 'done']);
  });
});
