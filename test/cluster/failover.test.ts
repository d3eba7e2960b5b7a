import { expect } from 'chai';
import { TERMINAL_MESSAGE_STATUSES } from '../../src/db/entities/Message.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { type FailoverStack, startFailoverStack, until } from '../support/failoverStack.ts';

describe('Redis Cluster failover while answers stream', function () {
  this.timeout(120_000);
  let stack: FailoverStack;
  const clients: ChatClient[] = [];

  before(async () => {
    // Slow enough that every answer is still streaming when the master dies and after it is replaced.
    stack = await startFailoverStack('failover');
  });

  after(async () => {
    for (const client of clients) client.close();
    await stack?.stop();
  });

  it('ends every accepted answer and tells its client, keeps the processes up, reports the outage and recovers', async () => {
    const { cluster, stub, worker, edge, api, alice, prefix, ready } = stack;
    const client = await ChatClient.connect(api.baseUrl, alice.accessToken);
    clients.push(client);
    await until('the edge is ready', ready);

    const turns = [];
    for (let index = 0; index < 6; index++) turns.push(await client.send({ content: `question ${index}` }));
    // Every answer is streaming before the master goes.
    await Promise.all(turns.map((turn) => client.untilTokens(turn.assistantMessageId, 2)));

    // The master serving the queues' slot (BullMQ's keys all carry the hash tag {prefix}).
    const queueMaster = await cluster.masterOf(`{${prefix}}:chat:wait`);
    await cluster.kill(queueMaster);

    await until('readiness reports the outage', async () => !(await ready()));
    const outage = await api.request('GET', '/health/ready');
    expect(outage.status).to.equal(503);
    expect(outage.body.failing).to.include.oneOf(['redis', 'queues']);

    const promoted = await cluster.untilPromotedAway(queueMaster, `{${prefix}}:chat:wait`);
    expect(promoted).to.not.equal(queueMaster);
    await until('readiness recovers', ready);

    // Every accepted answer reaches an end, and its client hears of it.
    const ends = await Promise.all(turns.map((turn) => client.untilEnded(turn.assistantMessageId)));
    for (const end of ends) expect(Boolean(end.done) || Boolean(end.error)).to.equal(true);
    for (const turn of turns) {
      const page = await api.request(
        'GET',
        `/api/v1/conversations/${turn.conversationId}/messages?limit=10`,
        { token: alice.accessToken },
      );
      const stored = page.body.items.find((item: { id: string }) => item.id === turn.assistantMessageId);
      expect(TERMINAL_MESSAGE_STATUSES, `answer ${turn.assistantMessageId}`).to.include(stored.status);
    }

    // Nothing crashed.
    expect(worker.process.exitCode).to.equal(null);
    expect(edge.process.exitCode).to.equal(null);

    // A new question after the failover is answered in full.
    stub.configure({ tokensPerSecond: 2_000, answerTokens: 20 });
    const after = await client.send({ content: 'after the failover' });
    const answer = await client.untilEnded(after.assistantMessageId);
    expect(answer.error).to.equal(undefined);
    expect(answer.done?.content ?? client.text(after.assistantMessageId).text).to.not.equal('');
  });
});
