import { Queue } from 'bullmq';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/logger.ts';
import { FetchHeartbeats } from '../../src/queues/FetchHeartbeats.ts';
import { StartAsFetchedWorker } from '../../src/queues/StartAsFetchedWorker.ts';
import { WatchedWorkers } from '../../src/queues/WatchedWorkers.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { TcpProxy } from '../support/TcpProxy.ts';

const logger = createLogger('silent');

/** Polls `probe` until it returns true (readiness has no event to wait on). */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/**
 * A worker whose Redis stops answering without dropping the connection (a black hole, as a
 * master's connections looked after some failovers) never returns from its blocking wait, or
 * from the reconnect after BullMQ's own watchdog: its fetch loop has stopped for good.
 */
describe('workers: a fetch loop that stops for good', function () {
  this.timeout(90_000);
  const closing: { close: () => Promise<unknown> }[] = [];
  const redisUrl = new URL(TEST_REDIS_URL);
  let proxy: TcpProxy;

  beforeEach(async () => {
    proxy = await TcpProxy.start(redisUrl.hostname, Number(redisUrl.port || 6379));
  });
  afterEach(async () => {
    proxy.restore();
    await Promise.allSettled(closing.splice(0).map((closable) => closable.close()));
    await proxy.close();
  });

  /** A worker through the proxy (`stallable`) or straight to Redis; each job calls `onJob`. */
  const workerFactory = (
    prefix: string,
    onJob: (id: string) => void,
    stallable: (made: number) => boolean,
  ) => {
    let made = 0;
    return (queue: string) => {
      const url = stallable(made++) ? proxy.rewrite(TEST_REDIS_URL) : TEST_REDIS_URL;
      const connection = new Redis(url, { maxRetriesPerRequest: null });
      connection.on('error', () => {});
      const worker = new StartAsFetchedWorker(
        queue,
        async (job) => {
          onJob(String(job.id));
        },
        // A short blocking wait, so a healthy loop moves every second.
        { connection, prefix, drainDelay: 1 },
      );
      worker.on('error', () => {});
      // A stalled worker's close may never return (its loop stays hung): cut its connection.
      closing.push({
        close: async () => {
          connection.disconnect();
          await Promise.race([worker.close(true), new Promise((done) => setTimeout(done, 1_000))]);
        },
      });
      return worker;
    };
  };

  it('is replaced: a new worker takes the job that waits', async () => {
    const prefix = uniqueQueuePrefix('fetch-watch');
    const queue = new Queue('chat', { connection: new Redis(TEST_REDIS_URL), prefix });
    closing.push(queue);
    const taken = new Promise<string>((resolve) => {
      const watched = new WatchedWorkers({
        create: workerFactory(prefix, resolve, (made) => made === 0),
        heartbeats: new FetchHeartbeats(new Redis(TEST_REDIS_URL), prefix),
        logger,
        options: { stallMs: 4_000, checkMs: 250 },
      });
      closing.push({ close: async () => watched.stop() });
      watched.start(['chat']);
      // Once the first worker's loop has moved, its Redis turns into a black hole.
      const [first] = watched.all() as StartAsFetchedWorker[];
      first!.once('drained', () => {
        proxy.stall();
        void queue.add('job', {}, { jobId: 'waiting-job' });
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<string>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the waiting job was never taken')), 45_000);
    });
    expect(await Promise.race([taken, deadline])).to.equal('waiting-job');
    clearTimeout(timer);
  });

  it('makes readiness fail while jobs wait and no registered worker fetches', async () => {
    const edge: TestEdge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('fetch-watch'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('fetch-watch'),
    });
    closing.push({ close: () => edge.stop() });
    const api = new ApiClient(edge.url);
    const prefix = edge.runtime.queues.bullmqPrefix;
    // Not replaced: the worker stays registered (its connections open) and stops beating.
    const watched = new WatchedWorkers({
      create: workerFactory(
        prefix,
        () => {},
        () => true,
      ),
      heartbeats: new FetchHeartbeats(new Redis(TEST_REDIS_URL), prefix),
      logger,
      options: { stallMs: 3_000, checkMs: 250, replaceStalled: false },
    });
    closing.push({ close: async () => watched.stop() });
    watched.start(['chat']);
    const ready = async () => (await api.request('GET', '/health/ready')).status === 200;
    await until('the worker fetches and the edge is ready', async () => {
      const report = await api.request('GET', '/health/ready');
      return report.status === 200 && report.body.checks.queues.details.chat.fetching === 1;
    });

    proxy.stall();
    await edge.runtime.queues.get('chat').add('generate-reply', {} as never, { jobId: 'never-taken' });
    await until('readiness fails', async () => !(await ready()));
    const report = await api.request('GET', '/health/ready');
    expect(report.status).to.equal(503);
    expect(report.body.failing).to.deep.equal(['queues']);
    expect(report.body.checks.queues.error).to.match(
      /chat: 1 waiting, \d+ workers registered, none fetching/,
    );
  });
});
