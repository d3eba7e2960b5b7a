import { dropTestDatabases, stopSuiteCluster, testRedisClient } from './services.ts';
import { removeTestKeys, TEST_KEY_NAMESPACE } from './testKeys.ts';

export const mochaHooks = {
  /**
   * After every file's own `after` hooks have stopped its edges and workers: the run's Redis keys
   * go, and a key that comes back fails the run (something the tests started is still writing).
   */
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    const { remaining } = await removeTestKeys(testRedisClient);
    if (remaining.length > 0) {
      throw new Error(
        `${remaining.length} Redis key(s) under ${TEST_KEY_NAMESPACE} were written after the tests ended, e.g. ${remaining.slice(0, 5).join(', ')}`,
      );
    }
  },
};

// Throwaway databases go whatever the outcome; "exit": true in .mocharc stops leaked handles hanging CI.
export async function mochaGlobalTeardown() {
  await dropTestDatabases();
  await stopSuiteCluster();
}
