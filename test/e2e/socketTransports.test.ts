import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import type { ProbeReply } from '../../src/relay/events.ts';
import { ApiClient } from '../support/ApiClient.ts';
import type { ChildService } from '../support/ChildService.ts';
import { type ProcessStack, startProcessStack } from '../support/processStack.ts';
import { emitAck } from '../support/socketAck.ts';

/**
 * HTTP long-polling is the fallback behind proxies that block WebSockets, and what
 * socket.io-client does first with its default options. The edge runs as a child process here,
 * so a crash shows up as an exit.
 */
describe('sockets over long-polling (edge in its own process)', () => {
  const sockets: Socket[] = [];
  let stack: ProcessStack;
  let edge: ChildService;
  let edgeUrl: string;
  let token: string;

  before(async () => {
    stack = await startProcessStack('transports');
    ({ edge, url: edgeUrl } = stack);
    token = (await new ApiClient(edgeUrl).signup('polling')).accessToken;
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await stack?.stop();
  });

  const stillUp = async () => {
    const health = await fetch(`${edgeUrl}/health`);
    expect(health.status).to.equal(200);
    expect(edge.process.exitCode, edge.stderr.join('\n')).to.equal(null);
    expect(edge.stderr.join('\n')).not.to.match(/ERR_HTTP_HEADERS_SENT/);
  };

  it('answers a raw polling handshake, POST and GET on its sid once each, and stays up', async () => {
    const base = `${edgeUrl}/socket.io/?EIO=4&transport=polling`;
    const open = await fetch(base);
    expect(open.status).to.equal(200);
    const handshake = await open.text();
    // Engine.IO's open packet: "0" then JSON with the session id.
    expect(handshake).to.match(/^0\{/);
    const { sid } = JSON.parse(handshake.slice(1)) as { sid: string };

    // A Socket.IO CONNECT without a token: the edge refuses it with a CONNECT_ERROR packet.
    const post = await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '40' });
    expect(post.status).to.equal(200);
    expect(await post.text()).to.equal('ok');
    const poll = await fetch(`${base}&sid=${sid}`);
    expect(poll.status).to.equal(200);
    expect(await poll.text()).to.match(/^44\{.*"code":"unauthorized"/);

    // Other methods on a live session are refused as the REST API refuses them (engine.io: 500).
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const other = await fetch(`${base}&sid=${sid}`, { method });
      expect(other.status, method).to.equal(405);
      expect(other.headers.get('content-type')).to.equal('application/problem+json');
      expect(other.headers.get('allow')).to.equal('GET, POST, OPTIONS');
      expect(await other.json()).to.include({ code: 'method_not_allowed', status: 405 });
    }

    // Unknown sessions get engine.io's own answer, not a second one from the REST app.
    const stale = await fetch(`${base}&sid=not-a-session`);
    expect(stale.status).to.equal(400);
    await stillUp();
  });

  it('connects with socket.io-client’s default options, acks system:ping and delivers system:pong', async () => {
    const socket = io(edgeUrl, { reconnection: false, auth: { token } });
    sockets.push(socket);
    await new Promise<void>((connected, failed) => {
      socket.once('connect', connected);
      socket.once('connect_error', failed);
    });
    const pong = new Promise<ProbeReply>((resolve) => socket.once('system:pong', resolve));
    const [error, accepted] = await emitAck<{ jobId: string }>(socket, 'system:ping', { nonce: 'default' });
    expect(error).to.equal(null);
    expect(accepted?.jobId).to.be.a('string');
    expect((await pong).nonce).to.equal('default');
    await stillUp();
  });

  it('works on long-polling alone, as behind a proxy that blocks WebSockets', async () => {
    const socket = io(edgeUrl, { transports: ['polling'], reconnection: false, auth: { token } });
    sockets.push(socket);
    await new Promise<void>((connected, failed) => {
      socket.once('connect', connected);
      socket.once('connect_error', failed);
    });
    expect(socket.io.engine.transport.name).to.equal('polling');
    const pong = new Promise<ProbeReply>((resolve) => socket.once('system:pong', resolve));
    const [error] = await emitAck(socket, 'system:ping', { nonce: 'polling-only' });
    expect(error).to.equal(null);
    expect((await pong).nonce).to.equal('polling-only');
    expect(socket.io.engine.transport.name).to.equal('polling');
    await stillUp();
  });

  it('serves the Socket.IO client bundle intact: gzip that decodes to the script', async () => {
    const response = await fetch(`${edgeUrl}/socket.io/socket.io.min.js`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/javascript/);
    expect(response.headers.get('content-encoding')).to.equal('gzip');
    // fetch decodes the gzip body; a JSON body under a gzip header would throw here.
    const script = await response.text();
    expect(script).to.match(/Socket\.IO v4/);
    expect(script).not.to.match(/"code":"not_found"/);
    await stillUp();
  });
});
