import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ProbeReply, ServerToClientEvents } from '../../src/relay/events.ts';
import { ApiClient } from '../support/ApiClient.ts';
import type { ChildService } from '../support/ChildService.ts';
import { type ProcessStack, startProcessStack } from '../support/processStack.ts';
import { emitAck } from '../support/socketAck.ts';

describe('relay across processes: edge → queue → worker → Redis → socket', () => {
  const sockets: Socket[] = [];
  let stack: ProcessStack;
  let edge: ChildService;
  let edgeUrl: string;
  let token: string;

  before(async () => {
    stack = await startProcessStack('relay');
    ({ edge, url: edgeUrl } = stack);
    token = (await new ApiClient(edgeUrl).signup('relay')).accessToken;
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await stack?.stop();
  });

  const connect = async () => {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(edgeUrl, {
      transports: ['websocket'],
      reconnection: false,
      auth: { token },
    });
    sockets.push(socket);
    await new Promise<void>((connected, failed) => {
      socket.once('connect', connected);
      socket.once('connect_error', failed);
    });
    return socket;
  };

  it('delivers the worker’s answer to the asking socket only', async () => {
    const [asker, bystander] = await Promise.all([connect(), connect()]);
    const strayEvents: ProbeReply[] = [];
    bystander.on('system:pong', (reply) => strayEvents.push(reply));

    const answered = new Promise<ProbeReply>((resolve) => asker.once('system:pong', resolve));
    const [error, accepted] = await emitAck<{ jobId: string }>(asker, 'system:ping', { nonce: 'n-1' });
    expect(error).to.equal(null);
    expect(accepted?.jobId).to.be.a('string');

    const reply = await answered;
    expect(reply.nonce).to.equal('n-1');
    expect(reply.workerPid).to.equal(stack.worker.pid);
    expect(reply.workerPid).not.to.equal(edge.pid);

    // A second round trip on the bystander proves its pipe works, and that it saw nothing before.
    const bystanderAnswered = new Promise<ProbeReply>((resolve) => bystander.once('system:pong', resolve));
    await emitAck(bystander, 'system:ping', { nonce: 'n-2' });
    expect((await bystanderAnswered).nonce).to.equal('n-2');
    expect(strayEvents.map((event) => event.nonce)).to.deep.equal(['n-2']);
  });

  it('rejects a malformed ping in the ack, without enqueueing', async () => {
    const socket = await connect();
    const [error, result] = await emitAck(socket, 'system:ping', { nonce: 42 });
    expect(error).to.include({ code: 'validation_failed' });
    expect(result).to.equal(undefined);
  });
});
