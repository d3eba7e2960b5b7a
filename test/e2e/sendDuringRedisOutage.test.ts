import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import type { AckError } from '../../src/relay/events.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { TcpProxy } from '../support/TcpProxy.ts';

/**
 * A send while Redis is away must fail, not hang: the enqueue fails at once (the producer's
 * connection does not queue), and ending the answer must not wait on the relay's connection,
 * which queues commands until Redis is back (a failover, a restart).
 */
describe('sockets: chat:send while Redis is away', () => {
  let edge: TestEdge;
  let api: ApiClient;
  let redis: TcpProxy;
  let socket: Socket | undefined;

  before(async () => {
    const target = new URL(TEST_REDIS_URL);
    redis = await TcpProxy.start(target.hostname, Number(target.port || 6379));
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('redis-outage-send'),
      REDIS_URL: redis.rewrite(TEST_REDIS_URL),
      QUEUE_PREFIX: uniqueQueuePrefix('redis-outage-send'),
    });
    api = new ApiClient(edge.url);
  });
  after(async () => {
    socket?.disconnect();
    redis?.restore();
    await edge?.stop();
    await redis?.close();
  });

  it('acks unavailable while Redis is still away, and the answer is stored as failed', async () => {
    const alice = await api.signup('outage');
    socket = io(edge.url, {
      reconnection: false,
      transports: ['websocket'],
      auth: { token: alice.accessToken },
    });
    await new Promise<void>((connected, failed) => {
      socket!.once('connect', connected);
      socket!.once('connect_error', failed);
    });
    redis.sever();
    // The deadline is far above the edge's own wait; the old code answered only once Redis returned.
    const [error] = await new Promise<[AckError | null, unknown]>((resolve, reject) => {
      socket!
        .timeout(8_000)
        .emit(
          'chat:send',
          { content: 'Anyone there?', clientMessageId: crypto.randomUUID() },
          (timedOut: Error | null, ackError: AckError | null, result: unknown) =>
            timedOut ? reject(new Error('no ack while Redis was away')) : resolve([ackError, result]),
        );
    });
    expect(error?.code).to.equal('unavailable');
    // Redis is still away: the answer was failed without waiting for it.
    const conversations = await api.request('GET', '/api/v1/conversations', { token: alice.accessToken });
    const conversationId = conversations.body.items[0].id as string;
    const page = await api.request('GET', `/api/v1/conversations/${conversationId}/messages?limit=10`, {
      token: alice.accessToken,
    });
    const answer = page.body.items.find((item: { role: string }) => item.role === 'assistant');
    expect(answer.status).to.equal('failed');
  });
});
