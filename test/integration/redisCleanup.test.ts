import { expect } from 'chai';
import type { RedisClient } from '../../src/redis/connections.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge } from '../support/inProcessEdge.ts';
import {
  createTestDatabase,
  TEST_REDIS_ENV,
  testRedisClient,
  uniqueQueuePrefix,
} from '../support/services.ts';
import { keysUnder, removeKeysUnder, TEST_KEY_NAMESPACE } from '../support/testKeys.ts';

describe('Redis keys of a test run', () => {
  let redis: RedisClient;
  before(() => {
    redis = testRedisClient();
  });
  after(() => redis.quit());

  it('all live under the run’s namespace, and removing a prefix takes exactly its keys', async () => {
    const prefix = uniqueQueuePrefix('cleanup');
    expect(prefix.startsWith(TEST_KEY_NAMESPACE)).to.equal(true);
    const edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('cleanup'),
      ...TEST_REDIS_ENV,
      QUEUE_PREFIX: prefix,
    });
    try {
      // A signup writes a rate-limit counter and queues the verification mail.
      await new ApiClient(edge.url).signup('cleanup');
    } finally {
      await edge.stop();
    }
    const written = await keysUnder(redis, prefix);
    expect(written.length).to.be.greaterThan(3);
    expect(written.some((key) => key.includes(':maintenance:'))).to.equal(true);

    // Someone else's key that merely contains the prefix is not ours to remove.
    const neighbour = `not-${prefix}:kept`;
    await redis.set(neighbour, '1', 'EX', 60);
    try {
      expect(await removeKeysUnder(redis, prefix)).to.equal(written.length);
      expect(await keysUnder(redis, prefix)).to.deep.equal([]);
      expect(await redis.exists(neighbour)).to.equal(1);
    } finally {
      await redis.unlink(neighbour);
    }
  });
});
