import { once } from 'node:events';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/logger.ts';
import { retryEnqueue } from '../../src/queues/retryEnqueue.ts';
import { TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { TcpProxy } from '../support/TcpProxy.ts';

/** A follow-up enqueued while Redis is away lands once Redis is back, instead of being dropped. */
describe('queues: a follow-up job is retried while Redis is away', () => {
  let proxy: TcpProxy;
  let producer: Redis;
  let queue: Queue;

  before(async () => {
    const target = new URL(TEST_REDIS_URL);
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 6379));
    // The producer's connection fails fast, as the workers' is.
    producer = new Redis(proxy.rewrite(TEST_REDIS_URL), {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => 100,
    });
    producer.on('error', () => {});
    queue = new Queue('chat', { connection: producer, prefix: uniqueQueuePrefix('retry-enqueue') });
    await queue.waitUntilReady();
  });
  after(async () => {
    proxy.restore();
    await queue?.close();
    producer?.disconnect();
    await proxy?.close();
  });

  /** Takes Redis away and resolves once the producer has noticed. */
  const severed = async () => {
    const closed = once(producer, 'close');
    proxy.sever();
    await closed;
  };

  it('keeps trying until the enqueue succeeds', async () => {
    await severed();
    let tries = 0;
    const enqueued = retryEnqueue(
      async () => {
        tries += 1;
        // Redis comes back after the second refusal.
        if (tries === 3) proxy.restore();
        return queue.add('generate-title', {}, { jobId: 'title-later' });
      },
      'title',
      createLogger('silent'),
      { delayMs: 200, giveUpAfterMs: 30_000 },
    );
    expect(await enqueued).to.equal(true);
    expect(tries).to.be.at.least(3);
    expect(await (await queue.getJob('title-later'))?.getState()).to.equal('waiting');
  });

  it('gives up after its deadline', async () => {
    await severed();
    const given = await retryEnqueue(
      () => queue.add('generate-title', {}, { jobId: 'title-never' }),
      'title',
      createLogger('silent'),
      { delayMs: 50, giveUpAfterMs: 300 },
    );
    expect(given).to.equal(false);
  });
});
