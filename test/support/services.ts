import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { RedisClient, RedisTarget } from '../../src/redis/connections.ts';
import { PrivateCluster } from './privateCluster.ts';
import { noteTestPrefix, TEST_KEY_NAMESPACE } from './testKeys.ts';

/** Where the real services are: an admin connection to Postgres, and Redis. */
export const TEST_DATABASE_ADMIN_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * `PARLEY_TEST_REDIS=cluster` (npm run test:cluster) runs the files on a Redis Cluster of the
 * run's own (three masters, three replicas on free ports), started here before any test file
 * reads the settings below and stopped by the run's teardown.
 */
export const TEST_REDIS_MODE: 'single' | 'cluster' =
  process.env.PARLEY_TEST_REDIS === 'cluster' ? 'cluster' : 'single';
const suiteCluster = TEST_REDIS_MODE === 'cluster' ? await PrivateCluster.start() : undefined;
if (suiteCluster) process.on('exit', () => suiteCluster.killNow());

/** The Redis settings of every edge, worker and configuration a test starts. */
export const TEST_REDIS_ENV: { REDIS_URL: string } | { REDIS_CLUSTER_NODES: string } = suiteCluster
  ? { REDIS_CLUSTER_NODES: suiteCluster.nodeList }
  : { REDIS_URL: TEST_REDIS_URL };

/** The same, for a RedisConnections a test makes itself. */
export const TEST_REDIS_TARGET: RedisTarget = suiteCluster
  ? { clusterNodes: suiteCluster.hostPorts }
  : { url: TEST_REDIS_URL };

/**
 * A client of the test Redis (or cluster) for a test's own reads and writes; `blocking` for
 * BullMQ's QueueEvents and workers, which require maxRetriesPerRequest null.
 */
export const testRedisClient = (role: 'command' | 'blocking' = 'command'): RedisClient =>
  suiteCluster
    ? suiteCluster.client()
    : new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: role === 'blocking' ? null : 1 });

export async function stopSuiteCluster(): Promise<void> {
  await suiteCluster?.stop();
}

const created: string[] = [];

const adminQuery = async (sql: string) => {
  const client = new pg.Client({ connectionString: TEST_DATABASE_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

/** A new, empty database on the real server; dropped when the run ends. */
export async function createTestDatabase(label: string): Promise<string> {
  const name = `parley_test_${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
  await adminQuery(`create database "${name}"`);
  created.push(name);
  const url = new URL(TEST_DATABASE_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropTestDatabases(): Promise<void> {
  for (const name of created.splice(0)) {
    await adminQuery(`drop database if exists "${name}" with (force)`);
  }
}

/**
 * A BullMQ key prefix of its own, so runs and files never see each other's jobs. It sits in this
 * run's namespace, whose keys the run removes at its end (testKeys.ts).
 */
export const uniqueQueuePrefix = (label: string) => {
  noteTestPrefix();
  return `${TEST_KEY_NAMESPACE}${label}-${randomBytes(4).toString('hex')}`;
};

/**
 * The offline test embedding model (random weights, 384-d, BERT-shaped; see test/fixtures/models):
 * every edge and worker a test starts uses it instead of downloading the real default.
 */
export const TEST_EMBEDDING_ENV = {
  EMBEDDING_MODEL: 'tiny-bert-embed',
  MODELS_DIR: fileURLToPath(new URL('../fixtures/models/', import.meta.url)),
  EMBEDDING_DTYPE: 'q8',
  EMBEDDING_THREADS: '1',
};

/** The secret every test process shares (the scale-out entry points require one). */
export const TEST_JWT_SECRET = 'test-secret-for-parley-tests-only-0123456789';
