import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { createRealtimeEmitter } from '../../src/relay/emitter.ts';
import { type ProbeReply, userRoom } from '../../src/relay/events.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_ENV, uniqueQueuePrefix } from '../support/services.ts';
import { expiredAccessToken } from '../support/tokens.ts';

describe('sockets: handshake auth, per-user rooms, presence across edges', () => {
  const sockets: Socket[] = [];
  let edges: TestEdge[];
  let api: ApiClient;
  let alice: Session;
  let bob: Session;

  before(async () => {
    const env = {
      DATABASE_URL: await createTestDatabase('sockets'),
      ...TEST_REDIS_ENV,
      QUEUE_PREFIX: uniqueQueuePrefix('sockets'),
    };
    // Two edge nodes sharing Postgres and Redis, like two `start:web` processes.
    edges = [await startInProcessEdge(env), await startInProcessEdge(env)];
    api = new ApiClient(edges[0]!.url);
    [alice, bob] = [await api.signup('alice'), await api.signup('bob')];
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await Promise.all(edges.map((edge) => edge.stop()));
  });

  const open = (edge: TestEdge, auth?: Record<string, unknown>) => {
    const socket = io(edge.url, { transports: ['websocket'], reconnection: false, auth });
    sockets.push(socket);
    return socket;
  };
  const connected = (socket: Socket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  const refused = (socket: Socket) =>
    new Promise<{ message: string; data?: { code: string } }>((resolve, reject) => {
      socket.once('connect', () => reject(new Error('connected without a valid token')));
      socket.once('connect_error', resolve);
    });

  it('refuses a socket with no token, a bad token or an expired token, saying which', async () => {
    const none = await refused(open(edges[0]!));
    expect(none.data?.code).to.equal('unauthorized');
    const bad = await refused(open(edges[0]!, { token: 'not-a-jwt' }));
    expect(bad.data?.code).to.equal('unauthorized');

    const expiredToken = await expiredAccessToken(alice.user.id);
    const expired = await refused(open(edges[0]!, { token: expiredToken }));
    expect(expired.data?.code).to.equal('token_expired');
    expect(expired.message).to.match(/refresh/);

    // A refresh token is not an access token.
    expect((await refused(open(edges[0]!, { token: alice.refreshToken }))).data?.code).to.equal(
      'unauthorized',
    );
  });

  it('delivers events for a user to that user’s sockets on every edge, never to another user', async () => {
    const aliceOnFirst = open(edges[0]!, { token: alice.accessToken });
    const aliceOnSecond = open(edges[1]!, { token: alice.accessToken });
    const bobSocket = open(edges[1]!, { token: bob.accessToken });
    await Promise.all([aliceOnFirst, aliceOnSecond, bobSocket].map(connected));

    const received = new Map<Socket, string[]>(
      [aliceOnFirst, aliceOnSecond, bobSocket].map((socket) => [socket, []]),
    );
    for (const [socket, nonces] of received)
      socket.on('system:pong', (reply: ProbeReply) => nonces.push(reply.nonce));

    // Published the way workers publish: the Redis emitter, to the user's room.
    const { redis, config } = edges[0]!.runtime;
    const emitter = createRealtimeEmitter(redis.create('pubsub', 'test-emitter'), config.redis.queuePrefix);
    const reply = (nonce: string): ProbeReply => ({ nonce, workerPid: 0, enqueuedAt: '', processedAt: '' });
    const bobGotHis = new Promise((resolve) => bobSocket.once('system:pong', resolve));
    const aliceGotBoth = Promise.all(
      [aliceOnFirst, aliceOnSecond].map(
        (socket) => new Promise((resolve) => socket.once('system:pong', resolve)),
      ),
    );
    emitter.to(userRoom(alice.user.id)).emit('system:pong', reply('for-alice'));
    await aliceGotBoth;
    emitter.to(userRoom(bob.user.id)).emit('system:pong', reply('for-bob'));
    await bobGotHis;

    expect(received.get(aliceOnFirst)).to.deep.equal(['for-alice']);
    expect(received.get(aliceOnSecond)).to.deep.equal(['for-alice']);
    expect(received.get(bobSocket)).to.deep.equal(['for-bob']);
  });

  it('reports presence across all edge nodes to the user and to admins, 404 to anyone else', async () => {
    // Alice has two sockets (one per edge) from the previous test; ask the node that holds only one.
    const own = await api.request('GET', `/api/v1/ws/users/${alice.user.id}/status`, {
      token: alice.accessToken,
    });
    expect(own.status).to.equal(200);
    expect(own.body).to.deep.equal({ userId: alice.user.id, online: true, connections: 2 });

    const carol = await api.signup('carol');
    const offline = await api.request('GET', `/api/v1/ws/users/${carol.user.id}/status`, {
      token: carol.accessToken,
    });
    expect(offline.body).to.deep.equal({ userId: carol.user.id, online: false, connections: 0 });

    const snooping = await api.request('GET', `/api/v1/ws/users/${alice.user.id}/status`, {
      token: bob.accessToken,
    });
    expect(snooping.status).to.equal(404);
    expect(snooping.body.code).to.equal('not_found');
    const malformed = await api.request('GET', '/api/v1/ws/users/not-a-uuid/status', {
      token: bob.accessToken,
    });
    expect(malformed.status).to.equal(400);
  });
});
