import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

const LISTED = 'https://app.example';

/** The handshake's origin check, over both transports (socket.io-client in Node can set Origin). */
describe('sockets: which origins may open one', () => {
  const sockets: Socket[] = [];
  let edge: TestEdge;
  let token: string;

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('origins'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('origins'),
      CORS_ORIGINS: LISTED,
    });
    token = (await new ApiClient(edge.url).signup('origins')).accessToken;
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await edge?.stop();
  });

  /** Resolves with how a connection attempt ended: 'connected', or the connect_error message. */
  const attempt = (transport: 'websocket' | 'polling', origin?: string) => {
    const socket = io(edge.url, {
      transports: [transport],
      reconnection: false,
      auth: { token },
      ...(origin !== undefined && { extraHeaders: { origin } }),
    });
    sockets.push(socket);
    return new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (error) => resolve(error.message));
    });
  };

  for (const transport of ['websocket', 'polling'] as const) {
    it(`${transport}: refuses a page of a foreign origin, and "null" origins`, async () => {
      expect(await attempt(transport, 'https://evil.example')).not.to.equal('connected');
      expect(await attempt(transport, `http://evil.example:${new URL(edge.url).port}`)).not.to.equal(
        'connected',
      );
      expect(await attempt(transport, 'null')).not.to.equal('connected');
    });

    it(`${transport}: lets in same-origin pages, origins in CORS_ORIGINS and clients without Origin`, async () => {
      expect(await attempt(transport, new URL(edge.url).origin)).to.equal('connected');
      expect(await attempt(transport, LISTED)).to.equal('connected');
      expect(await attempt(transport)).to.equal('connected');
    });
  }

  it('answers a refused polling handshake 403, naming the setting', async () => {
    const response = await fetch(`${edge.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(response.status).to.equal(403);
    expect(((await response.json()) as { message: string }).message).to.match(/CORS_ORIGINS/);
  });
});
