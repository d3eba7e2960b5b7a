import { expect } from 'chai';
import { TERMINAL_MESSAGE_STATUSES } from '../../src/db/entities/Message.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { type FailoverStack, startFailoverStack, until } from '../support/failoverStack.ts';

const ROUNDS = 3;

/**
 * Failover after failover: kill the master of the queues' slot while answers stream, let it come
 * back (as a replica of the one that took over), then kill the new master, and so on. After every
 * round each accepted answer has ended and its client was told, the processes are up, and a new
 * question is answered in full: the workers fetch again after any failover, not only the first.
 */
describe('Redis Cluster: repeated failovers of the queues master', function () {
  this.timeout(ROUNDS * 120_000);
  let stack: FailoverStack;
  const clients: ChatClient[] = [];

  before(async () => {
    stack = await startFailoverStack('refailover');
  });

  after(async () => {
    for (const client of clients) client.close();
    await stack?.stop();
  });

  const storedStatus = async (conversationId: string, messageId: string) => {
    const { api, alice } = stack;
    const page = await api.request('GET', `/api/v1/conversations/${conversationId}/messages?limit=10`, {
      token: alice.accessToken,
    });
    return page.body.items.find((item: { id: string }) => item.id === messageId)?.status;
  };

  it(`survives ${ROUNDS} rounds: every answer ends and is told, and new sends are answered after each`, async () => {
    const { cluster, stub, worker, edge, api, alice, prefix, ready } = stack;
    const client = await ChatClient.connect(api.baseUrl, alice.accessToken);
    clients.push(client);
    const key = `{${prefix}}:chat:wait`;
    for (let round = 1; round <= ROUNDS; round++) {
      await until(`round ${round}: the edge is ready`, ready, 90_000);
      await cluster.untilHealthy(3, 90_000);
      stub.configure({ tokensPerSecond: 25, answerTokens: 150 });
      const turns = [];
      for (let index = 0; index < 4; index++)
        turns.push(await client.send({ content: `round ${round}, question ${index}` }));
      await Promise.all(turns.map((turn) => client.untilTokens(turn.assistantMessageId, 2)));

      const master = await cluster.masterOf(key);
      await cluster.kill(master);
      const promoted = await cluster.untilPromotedAway(master, key);
      expect(promoted, `round ${round}`).to.not.equal(master);

      // Every accepted answer reaches an end, and its client hears of it.
      const ends = await Promise.all(turns.map((turn) => client.untilEnded(turn.assistantMessageId)));
      for (const end of ends)
        expect(Boolean(end.done) || Boolean(end.error), `round ${round}`).to.equal(true);
      for (const turn of turns)
        expect(TERMINAL_MESSAGE_STATUSES).to.include(
          await storedStatus(turn.conversationId, turn.assistantMessageId),
        );

      // The killed master returns, as a replica of the one that took over.
      await cluster.restart(master);
      expect(worker.process.exitCode, `round ${round}: worker`).to.equal(null);
      expect(edge.process.exitCode, `round ${round}: edge`).to.equal(null);

      // A send between failovers is answered in full: the worker fetches from the new master.
      await until(`round ${round}: the edge is ready again`, ready, 90_000);
      stub.configure({ tokensPerSecond: 2_000, answerTokens: 20 });
      const between = await client.send({ content: `between rounds ${round} and ${round + 1}` });
      const answer = await client.untilEnded(between.assistantMessageId);
      expect(answer.error, `round ${round}: the answer between failovers`).to.equal(undefined);
      expect(await storedStatus(between.conversationId, between.assistantMessageId)).to.equal('complete');
    }
  });
});
