import { Queue, type Worker } from 'bullmq';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { StartAsFetchedWorker } from '../../src/queues/StartAsFetchedWorker.ts';
import { TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

/**
 * Jobs waiting in a burst start as they are fetched: BullMQ's own loop fetched all of them
 * before starting the first, so an answer waited for the last send of the burst.
 */
describe('StartAsFetchedWorker', () => {
  const JOBS = 40;
  let connection: Redis;
  let queue: Queue;
  let prefix: string;

  beforeEach(async () => {
    prefix = uniqueQueuePrefix('fetch');
    connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue('burst', { connection, prefix });
    await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'job', data: { i } })));
  });

  afterEach(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  });

  /** Runs every waiting job; answers how many were still waiting when the first one started. */
  async function waitingAtFirstStart(WorkerClass: typeof Worker): Promise<number> {
    let waiting: Promise<number> | undefined;
    let finished = 0;
    let worker: Worker | undefined;
    const allDone = new Promise<void>((resolve, reject) => {
      worker = new WorkerClass(
        'burst',
        async () => {
          waiting ??= queue.getWaitingCount();
          if (++finished === JOBS) resolve();
        },
        { connection: new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: 100 },
      );
      worker.on('error', reject);
    });
    await allDone;
    await worker?.close();
    return (await waiting) ?? -1;
  }

  it('starts the first job of a burst while most of the burst still waits', async () => {
    expect(await waitingAtFirstStart(StartAsFetchedWorker)).to.be.greaterThan(JOBS / 2);
  });

  it('still runs every job once, also with one slot', async () => {
    const seen: number[] = [];
    const worker = new StartAsFetchedWorker<{ i: number }>(
      'burst',
      async (job) => {
        seen.push(job.data.i);
      },
      { connection: new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: 1 },
    );
    const drained = new Promise<void>((resolve) => worker.on('drained', resolve));
    await drained;
    // A job added after the queue ran dry is fetched after a blocking wait, not left behind.
    const late = new Promise<void>((resolve) =>
      worker.on('completed', (job) => job.data.i === JOBS && resolve()),
    );
    await queue.add('job', { i: JOBS });
    await late;
    await worker.close();
    expect(seen.sort((a, b) => a - b)).to.deep.equal(Array.from({ length: JOBS + 1 }, (_, i) => i));
  });
});
