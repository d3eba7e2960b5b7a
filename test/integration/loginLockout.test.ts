import { expect } from 'chai';
import { hashPassword } from '../../src/auth/passwords.ts';
import { User } from '../../src/db/entities/User.ts';
import { loginFailuresKey } from '../../src/redis/keys.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import {
  createTestDatabase,
  TEST_REDIS_ENV,
  testRedisClient,
  uniqueQueuePrefix,
} from '../support/services.ts';

const PASSWORD = 'correct horse battery staple';

/**
 * Login counts only failures, per account and per IP, in Redis: one person's wrong passwords lock
 * that account on every edge and nobody else behind the same address; good logins never count.
 */
describe('login lockout: failures per account, across edges', () => {
  let edges: TestEdge[];
  let clients: ApiClient[];
  let prefix: string;

  const login = (client: ApiClient, email: string, password: string) =>
    client.request('POST', '/api/v1/auth/login', { body: { email, password } });

  before(async () => {
    prefix = uniqueQueuePrefix('lockout');
    const env = {
      DATABASE_URL: await createTestDatabase('lockout'),
      ...TEST_REDIS_ENV,
      QUEUE_PREFIX: prefix,
      // The production default for the other auth routes; login must not be under it.
      RATE_LIMIT_AUTH: '20/1m',
    };
    edges = [await startInProcessEdge(env), await startInProcessEdge(env)];
    clients = edges.map((edge) => new ApiClient(edge.url));
    // Accounts made directly, so no auth request is spent on them.
    const em = edges[0]!.runtime.orm.em.fork();
    const passwordHash = await hashPassword(PASSWORD);
    for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) {
      em.create(User, { email, passwordHash });
    }
    await em.flush();
  });
  after(() => Promise.all(edges.map((edge) => edge.stop())));

  it("25 wrong passwords for A lock A on both edges, and B's correct login from the same IP still works", async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 25; attempt++) {
      statuses.push((await login(clients[attempt % 2]!, 'a@example.com', 'wrong password')).status);
    }
    expect(statuses).to.deep.equal([...Array(10).fill(401), ...Array(15).fill(429)]);

    const b = await login(clients[0]!, 'B@Example.com', PASSWORD);
    expect(b.status).to.equal(200);
    expect(b.body.user.email).to.equal('b@example.com');

    for (const client of clients) {
      // Locked even with the right password: refused before the password is checked.
      const locked = await login(client, 'a@example.com', PASSWORD);
      expect(locked.status).to.equal(429);
      expect(locked.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(locked.body.code).to.equal('rate_limited');
      expect(Number(locked.headers.get('retry-after'))).to.be.within(1, 15 * 60);
    }
  });

  it('locks an unknown account exactly like a known one', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      statuses.push((await login(clients[attempt % 2]!, 'nobody@example.com', 'wrong password')).status);
    }
    expect(statuses).to.deep.equal([...Array(10).fill(401), 429]);
  });

  it('lets no more than the limit of wrong passwords through when they arrive all at once', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, attempt) => login(clients[attempt % 2]!, 'burst@example.com', 'wrong')),
    ).then((responses) => responses.map((response) => response.status).sort());
    expect(statuses).to.deep.equal([...Array(10).fill(401), ...Array(20).fill(429)]);
  });

  it('30 correct logins in a row never lock', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 30; attempt++) {
      statuses.push((await login(clients[attempt % 2]!, 'c@example.com', PASSWORD)).status);
    }
    expect(statuses).to.deep.equal(Array(30).fill(200));
  });

  it('keeps no email address in a Redis key name', async () => {
    const redis = testRedisClient();
    try {
      const key = loginFailuresKey(prefix, 'account', 'nobody@example.com');
      expect(key).not.to.include('nobody');
      expect(await redis.exists(key)).to.equal(1);
    } finally {
      redis.disconnect();
    }
  });
});
