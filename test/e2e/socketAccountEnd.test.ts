import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { createRealtimeEmitter } from '../../src/relay/emitter.ts';
import { type ProbeReply, userRoom } from '../../src/relay/events.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

const ADMIN = { email: 'admin@example.com', password: 'admin password for tests' };

/** Disabling or deleting an account ends its open sockets on every edge, not only its next sends. */
describe('sockets: a disabled or deleted account is disconnected everywhere', () => {
  const sockets: Socket[] = [];
  let edges: TestEdge[];
  let api: ApiClient;
  let admin: string;

  before(async () => {
    const env = {
      DATABASE_URL: await createTestDatabase('account_end'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('account-end'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    };
    // Two edges: the admin's request lands on the first, the user's sockets sit on both.
    edges = [await startInProcessEdge(env), await startInProcessEdge(env)];
    api = new ApiClient(edges[0]!.url);
    admin = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body.accessToken;
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await Promise.all(edges.map((edge) => edge.stop()));
  });

  const connect = async (edge: TestEdge, token: string) => {
    const socket = io(edge.url, { reconnection: false, auth: { token } });
    sockets.push(socket);
    await new Promise<void>((connected, failed) => {
      socket.once('connect', connected);
      socket.once('connect_error', failed);
    });
    return socket;
  };
  const disconnected = (socket: Socket) =>
    new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
  const refused = (edge: TestEdge, token: string) =>
    new Promise<{ data?: { code: string } }>((resolve, reject) => {
      const socket = io(edge.url, { reconnection: false, auth: { token } });
      sockets.push(socket);
      socket.once('connect', () => reject(new Error('an ended account connected again')));
      socket.once('connect_error', resolve);
    });

  /** The user's sockets on both edges, plus a bystander's, and the promises of their disconnects. */
  const setUp = async () => {
    const [user, bystander]: Session[] = [await api.signup('ending'), await api.signup('bystander')];
    const userSockets = [
      await connect(edges[0]!, user!.accessToken),
      await connect(edges[1]!, user!.accessToken),
    ];
    const bystanderSocket = await connect(edges[1]!, bystander!.accessToken);
    return {
      user: user!,
      bystander: bystander!,
      userSockets,
      bystanderSocket,
      ends: userSockets.map(disconnected),
    };
  };

  it('PATCH disabled: true disconnects the user’s sockets on every edge, and they can’t reconnect', async () => {
    const { user, bystander, userSockets, bystanderSocket, ends } = await setUp();
    const disabled = await api.request('PATCH', `/api/v1/admin/users/${user.user.id}`, {
      token: admin,
      body: { disabled: true },
    });
    expect(disabled.status).to.equal(200);
    expect(await Promise.all(ends)).to.deep.equal(['io server disconnect', 'io server disconnect']);
    expect(userSockets.map((socket) => socket.connected)).to.deep.equal([false, false]);

    // The access token is still within its lifetime; the handshake checks the account.
    const again = await refused(edges[1]!, user.accessToken);
    expect(again.data?.code).to.equal('unauthorized');

    // Others keep their sockets and their events.
    expect(bystanderSocket.connected).to.equal(true);
    const { redis, config } = edges[0]!.runtime;
    const emitter = createRealtimeEmitter(redis.create('pubsub', 'test-emitter'), config.redis.queuePrefix);
    const delivered = new Promise<ProbeReply>((resolve) => bystanderSocket.once('system:pong', resolve));
    const reply: ProbeReply = { nonce: 'still-here', workerPid: 0, enqueuedAt: '', processedAt: '' };
    emitter.to(userRoom(bystander.user.id)).emit('system:pong', reply);
    expect((await delivered).nonce).to.equal('still-here');
  });

  it('DELETE disconnects the user’s sockets on every edge', async () => {
    const { user, bystanderSocket, ends } = await setUp();
    const deleted = await api.request('DELETE', `/api/v1/admin/users/${user.user.id}`, { token: admin });
    expect(deleted.status).to.equal(204);
    expect(await Promise.all(ends)).to.deep.equal(['io server disconnect', 'io server disconnect']);
    expect((await refused(edges[0]!, user.accessToken)).data?.code).to.equal('unauthorized');
    expect(bystanderSocket.connected).to.equal(true);
  });

  it('re-enabling lets the user connect again', async () => {
    const { user, ends } = await setUp();
    const path = `/api/v1/admin/users/${user.user.id}`;
    await api.request('PATCH', path, { token: admin, body: { disabled: true } });
    await Promise.all(ends);
    expect((await api.request('PATCH', path, { token: admin, body: { disabled: false } })).status).to.equal(
      200,
    );
    expect((await connect(edges[1]!, user.accessToken)).connected).to.equal(true);
  });
});
