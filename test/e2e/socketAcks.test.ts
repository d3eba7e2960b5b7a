import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import type { AckError } from '../../src/relay/events.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { TcpProxy } from '../support/TcpProxy.ts';

const MESSAGE_LIMIT = 5;
const KNOWN_EVENTS = ['chat:send', 'chat:cancel', 'chat:resume', 'system:ping'];

/**
 * Emits `args` (the ack goes last) and resolves with the ack's `[error, result]`; a missing ack
 * fails the test after a few seconds instead of hanging it.
 */
function ackOf(socket: Socket, event: string, ...args: unknown[]): Promise<[AckError | null, unknown]> {
  return new Promise((resolve, reject) => {
    socket
      .timeout(5_000)
      .emit(event, ...args, (timedOut: Error | null, error: AckError | null, result: unknown) =>
        timedOut ? reject(new Error(`no ack for ${event}`)) : resolve([error, result]),
      );
  });
}

describe('sockets: every call with an ack gets an answer', () => {
  const sockets: Socket[] = [];
  let edge: TestEdge;
  let api: ApiClient;
  let postgres: TcpProxy;

  before(async () => {
    // The edge reaches Postgres through a relay the last test takes away.
    const database = new URL(await createTestDatabase('acks'));
    postgres = await TcpProxy.start(database.hostname, Number(database.port || 5432));
    edge = await startInProcessEdge({
      DATABASE_URL: postgres.rewrite(database.toString()),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('acks'),
      RATE_LIMIT_MESSAGES: `${MESSAGE_LIMIT}/1m`,
    });
    api = new ApiClient(edge.url);
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await edge?.stop();
    await postgres?.close();
  });

  /** A new user's socket: each test has the whole message budget to itself. */
  const connect = async () => {
    const { accessToken } = await api.signup('acks');
    const socket = io(edge.url, { reconnection: false, auth: { token: accessToken } });
    sockets.push(socket);
    await new Promise<void>((connected, failed) => {
      socket.once('connect', connected);
      socket.once('connect_error', failed);
    });
    return socket;
  };

  it('answers an unknown event unknown_event, naming it', async () => {
    const socket = await connect();
    const [error, result] = await ackOf(socket, 'chat:delete', { messageId: 'x' });
    expect(error?.code).to.equal('unknown_event');
    expect(error?.message).to.include('chat:delete');
    expect(result).to.equal(undefined);
    expect((await ackOf(socket, 'no-payload-at-all'))[0]?.code).to.equal('unknown_event');
  });

  it('answers a known event sent without a payload invalid_payload', async () => {
    const socket = await connect();
    for (const event of KNOWN_EVENTS.slice(0, MESSAGE_LIMIT)) {
      const [error] = await ackOf(socket, event);
      expect(error?.code, event).to.equal('invalid_payload');
      expect(error?.message, event).to.match(/payload/);
    }
  });

  it('answers a known event with extra arguments invalid_payload, and a bad payload validation_failed', async () => {
    const socket = await connect();
    expect((await ackOf(socket, 'chat:send', { content: 'hi' }, 'extra'))[0]?.code).to.equal(
      'invalid_payload',
    );
    expect((await ackOf(socket, 'system:ping', { nonce: 'a' }, 2, 3))[0]?.code).to.equal('invalid_payload');
    expect((await ackOf(socket, 'system:ping', {}))[0]?.code).to.equal('validation_failed');
    expect((await ackOf(socket, 'chat:cancel', 'not-an-object'))[0]?.code).to.equal('validation_failed');
  });

  it('counts refused calls against the message limit: past it, rate_limited with a retry hint', async () => {
    const socket = await connect();
    for (let call = 0; call < MESSAGE_LIMIT; call++) {
      expect((await ackOf(socket, 'nope:nope', {}))[0]?.code).to.equal('unknown_event');
    }
    const [limited] = await ackOf(socket, 'nope:nope', {});
    expect(limited?.code).to.equal('rate_limited');
    expect(limited?.retryAfterSeconds).to.be.a('number').and.be.greaterThan(0);
    expect((await ackOf(socket, 'chat:send'))[0]?.code).to.equal('rate_limited');
  });

  it('answers chat:send unavailable with a retry hint while Postgres is unreachable, and new handshakes too', async () => {
    const socket = await connect();
    const { accessToken } = await api.signup('later');
    await postgres.close();
    const [error, result] = await ackOf(socket, 'chat:send', { content: 'Anyone there?' });
    expect(error?.code).to.equal('unavailable');
    expect(error?.retryAfterSeconds).to.be.a('number').and.be.greaterThan(0);
    expect(result).to.equal(undefined);
    // The socket and the process carry on.
    expect(socket.connected).to.equal(true);
    expect((await ackOf(socket, 'chat:cancel', { messageId: crypto.randomUUID() }))[0]?.code).to.equal(
      'unavailable',
    );

    // A new socket can't be checked against its account now: refused, saying to retry.
    const late = io(edge.url, { reconnection: false, auth: { token: accessToken } });
    sockets.push(late);
    const refusal = await new Promise<{ data?: AckError }>((resolve, reject) => {
      late.once('connect', () => reject(new Error('connected without an account check')));
      late.once('connect_error', resolve);
    });
    expect(refusal.data?.code).to.equal('unavailable');
    expect(refusal.data?.retryAfterSeconds).to.be.greaterThan(0);
  });
});
