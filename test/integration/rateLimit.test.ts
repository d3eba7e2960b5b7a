import { expect } from 'chai';
import { io } from 'socket.io-client';
import { User } from '../../src/db/entities/User.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_ENV, uniqueQueuePrefix } from '../support/services.ts';
import { emitAck } from '../support/socketAck.ts';

describe('rate limits held in Redis', () => {
  let edges: TestEdge[];

  before(async () => {
    const env = {
      DATABASE_URL: await createTestDatabase('ratelimit'),
      ...TEST_REDIS_ENV,
      QUEUE_PREFIX: uniqueQueuePrefix('ratelimit'),
      RATE_LIMIT_AUTH: '5/1m',
      RATE_LIMIT_MESSAGES: '2/1m',
    };
    edges = [await startInProcessEdge(env), await startInProcessEdge(env)];
  });
  after(() => Promise.all(edges.map((edge) => edge.stop())));

  it('answers 429 with Retry-After after the limit, even when requests alternate between two edges', async () => {
    const clients = edges.map((edge) => new ApiClient(edge.url));
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await clients[attempt % 2]!.request('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: 'not-a-token' },
      });
      statuses.push(response.status);
    }
    expect(statuses.every((status) => status !== 429)).to.equal(true);

    const limited = await clients[1]!.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: 'not-a-token' },
    });
    expect(limited.status).to.equal(429);
    expect(limited.body.code).to.equal('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 60);
    // The other auth routes share the bucket; login is not in it (it counts failures per
    // account: loginLockout.test.ts); other routes aren't either.
    expect(
      (await clients[0]!.request('POST', '/api/v1/auth/logout', { body: { refreshToken: 'x' } })).status,
    ).to.equal(429);
    expect(
      (
        await clients[0]!.request('POST', '/api/v1/auth/login', {
          body: { email: 'someone@example.com', password: 'wrong password' },
        })
      ).status,
    ).to.equal(401);
    expect((await clients[0]!.request('GET', '/health')).status).to.equal(200);
  });

  it('limits socket events that queue work per user, across edges, with an ack error', async () => {
    // The user is made directly, so this test spends nothing of the auth budget above.
    const em = edges[0]!.runtime.orm.em.fork();
    const user = em.create(User, { email: 'socket-limit@example.com', passwordHash: 'unused' });
    await em.flush();
    const token = await edges[0]!.runtime.accessTokens.sign({ userId: user.id, role: 'user' });
    const sockets = edges.map((edge) =>
      io(edge.url, { transports: ['websocket'], reconnection: false, auth: { token } }),
    );
    try {
      await Promise.all(
        sockets.map((socket) => new Promise<void>((resolve) => socket.once('connect', () => resolve()))),
      );
      const acks = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        acks.push(await emitAck(sockets[attempt % 2]!, 'system:ping', { nonce: `n${attempt}` }));
      }
      expect(acks.map(([error]) => error?.code ?? 'ok')).to.deep.equal(['ok', 'ok', 'rate_limited']);
    } finally {
      for (const socket of sockets) socket.disconnect();
    }
  });
});
