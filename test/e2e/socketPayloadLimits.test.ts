import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { SOCKET_MAX_BUFFER_BYTES } from '../../src/realtime/bufferLimit.ts';
import type { AckError } from '../../src/relay/events.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

function ackOf(socket: Socket, event: string, payload: unknown): Promise<[AckError | null, unknown]> {
  return new Promise((resolve, reject) => {
    socket
      .timeout(10_000)
      .emit(event, payload, (timedOut: Error | null, error: AckError | null, result: unknown) =>
        timedOut ? reject(new Error(`no ack for ${event}`)) : resolve([error, result]),
      );
  });
}

/**
 * A message over the content limit is refused with an ack and the socket stays; a frame over
 * the transport's buffer limit closes that one connection, and the edge keeps serving the others.
 */
describe('sockets: over-long messages', () => {
  const sockets: Socket[] = [];
  let edge: TestEdge;
  let api: ApiClient;

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('payloads'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('payloads'),
      RATE_LIMIT_MESSAGES: '1000/1m',
    });
    api = new ApiClient(edge.url);
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await edge?.stop();
  });

  const connect = async (transports: ('websocket' | 'polling')[]) => {
    const { accessToken } = await api.signup('payloads');
    const socket = io(edge.url, { transports, reconnection: false, auth: { token: accessToken } });
    sockets.push(socket);
    await new Promise<void>((connected, failed) => {
      socket.once('connect', connected);
      socket.once('connect_error', failed);
    });
    return socket;
  };

  for (const transport of ['websocket', 'polling'] as const) {
    it(`answers content of 40,000 characters validation_failed and stays connected (${transport})`, async () => {
      const socket = await connect([transport]);
      let disconnected = '';
      socket.on('disconnect', (reason) => {
        disconnected = reason;
      });
      const [error, result] = await ackOf(socket, 'chat:send', { content: 'x'.repeat(40_000) });
      expect(error?.code).to.equal('validation_failed');
      expect(error?.message).to.equal('content: must be at most 32000 characters');
      expect(result).to.equal(undefined);
      // Still the same connection: the next call is answered on it.
      const [next] = await ackOf(socket, 'chat:cancel', { messageId: crypto.randomUUID() });
      expect(next?.code).to.equal('not_found');
      expect(socket.connected).to.equal(true);
      expect(disconnected).to.equal('');
    });
  }

  for (const transport of ['websocket', 'polling'] as const) {
    it(`answers a message just under the buffer limit with an ack too (${transport})`, async () => {
      const socket = await connect([transport]);
      const [error] = await ackOf(socket, 'chat:send', {
        content: 'x'.repeat(SOCKET_MAX_BUFFER_BYTES - 1_000),
      });
      expect(error?.code).to.equal('validation_failed');
      expect(socket.connected).to.equal(true);
    });
  }

  for (const transport of ['websocket', 'polling'] as const) {
    it(`closes only the connection that sends 1.5 times the buffer limit; the edge serves the others (${transport})`, async () => {
      const bystander = await connect(['websocket']);
      const sender = await connect([transport]);
      const closed = new Promise<string>((resolve) => sender.once('disconnect', resolve));
      let acked = false;
      sender.emit('chat:send', { content: 'x'.repeat(SOCKET_MAX_BUFFER_BYTES * 1.5) }, () => {
        acked = true;
      });
      expect(await closed).to.be.oneOf(['transport close', 'transport error']);
      expect(acked).to.equal(false);

      expect(bystander.connected).to.equal(true);
      const [error] = await ackOf(bystander, 'chat:cancel', { messageId: crypto.randomUUID() });
      expect(error?.code).to.equal('not_found');
      // The sender may come back and is answered as before.
      sender.connect();
      await new Promise<void>((resolve) => sender.once('connect', () => resolve()));
      const [again] = await ackOf(sender, 'chat:send', { content: 'x'.repeat(40_000) });
      expect(again?.code).to.equal('validation_failed');
      expect((await api.request('GET', '/health')).status).to.equal(200);
    });
  }
});
