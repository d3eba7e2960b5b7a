import { QueueEvents } from 'bullmq';
import { expect } from 'chai';
import { createLogger } from '../../src/logger.ts';
import { Queues } from '../../src/queues/Queues.ts';
import { RedisConnections } from '../../src/redis/connections.ts';
import { ChildService } from '../support/ChildService.ts';
import {
  createTestDatabase,
  TEST_JWT_SECRET,
  TEST_REDIS_URL,
  uniqueQueuePrefix,
} from '../support/services.ts';

describe('graceful shutdown', () => {
  const prefix = uniqueQueuePrefix('shutdown');
  const redis = new RedisConnections(TEST_REDIS_URL, createLogger('silent'));
  const queues = new Queues(redis, prefix);
  let events: QueueEvents;
  let env: Record<string, string>;

  before(async () => {
    env = {
      DATABASE_URL: await createTestDatabase('shutdown'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      JWT_SECRET: TEST_JWT_SECRET,
    };
    events = new QueueEvents('maintenance', { connection: redis.create('blocking', 'test-events'), prefix });
    await events.waitUntilReady();
  });
  after(async () => {
    await events?.close();
    await queues.close();
    await redis.closeAll();
  });

  it('SIGTERM during a running job: the worker finishes it, then exits 0', async () => {
    const worker = await ChildService.start(
      'workers/index.ts',
      { ...env, WORKER_QUEUES: 'maintenance' },
      'workers started',
    );
    const job = await queues.add('maintenance', 'probe', { nonce: 'drain', holdMs: 1_500 });
    await new Promise<void>((active) => {
      const onActive = ({ jobId }: { jobId: string }) => {
        if (jobId !== job.id) return;
        events.off('active', onActive);
        active();
      };
      events.on('active', onActive);
    });

    const exit = await worker.stop('SIGTERM');
    expect(exit).to.deep.equal({ code: 0, signal: null });
    const finished = await queues.get('maintenance').getJob(job.id!);
    expect(await finished!.getState()).to.equal('completed');
    expect(finished!.returnvalue).to.include({ nonce: 'drain', workerPid: worker.pid });
    expect(worker.lines.map((line) => line.msg)).to.include('shutdown complete');
  });

  it('SIGTERM on an idle edge closes it and exits 0', async () => {
    const edge = await ChildService.start(
      'src/web.ts',
      { ...env, PORT: '0', HOST: '127.0.0.1' },
      'edge listening',
    );
    expect(await edge.stop('SIGTERM')).to.deep.equal({ code: 0, signal: null });
  });

  it('refuses to start a scale-out process on the embedded database, naming DATABASE_URL', async () => {
    const attempt = ChildService.start('src/web.ts', { ...env, DATABASE_URL: '' }, 'edge listening');
    let failure: Error | undefined;
    try {
      await attempt;
    } catch (error) {
      failure = error as Error;
    }
    expect(failure?.message)
      .to.match(/exited with 1/)
      .and.match(/DATABASE_URL/);
  });

  it('refuses to start when the embedding model’s dimension differs from EMBEDDING_DIM, saying what to change', async () => {
    let failure: Error | undefined;
    try {
      await ChildService.start(
        'workers/index.ts',
        { ...env, WORKER_QUEUES: 'ingest', EMBEDDING_DIM: '768' },
        'workers started',
      );
    } catch (error) {
      failure = error as Error;
    }
    expect(failure?.message)
      .to.match(/exited with 1/)
      .and.match(/produces 384-dimensional vectors but EMBEDDING_DIM is 768/)
      .and.not.match(/\n\s+at /); // the operator's message, not a stack trace
  });
});
