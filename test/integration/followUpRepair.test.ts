import { expect } from 'chai';
import { createLogger } from '../../src/logger.ts';
import { FollowUpRepair } from '../../src/maintenance/FollowUpRepair.ts';
import { embedJobId, titleJobId } from '../../src/queues/jobs.ts';
import { createConversation, createUser } from '../support/factories.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_ENV, uniqueQueuePrefix } from '../support/services.ts';

/**
 * A first answer that ended while Redis was away (a failover) lost its title and embedding jobs
 * for good. The stuck-work sweep now recreates them: a complete answer of the last hour whose
 * conversation has no title, or which has no vector, and whose job is nowhere in its queue.
 */
describe('maintenance: lost follow-up jobs are recreated', function () {
  this.timeout(30_000);
  let edge: TestEdge;

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('follow-ups'),
      ...TEST_REDIS_ENV,
      QUEUE_PREFIX: uniqueQueuePrefix('follow-ups'),
    });
  });
  after(async () => {
    await edge?.stop();
  });

  const sql = (query: string, params: unknown[] = []) =>
    edge.runtime.orm.em.getConnection().execute(query, params);
  const agedMinutes = (id: string, minutes: number) =>
    sql(`update messages set updated_at = now() - make_interval(mins => ?) where id = ?`, [minutes, id]);

  it('enqueues a missing title and embedding once, and leaves recent, old and queued ones alone', async () => {
    const em = edge.runtime.orm.em.fork();
    const user = await createUser(em);
    // Lost both: untitled, answered five minutes ago, no vector, no job.
    const lost = await createConversation(em, user, { title: null, lastAnswer: 'complete' });
    await sql(`update messages set content = 'an answer' where id = ?`, [lost.answer.id]);
    await agedMinutes(lost.answer.id, 5);
    // Just finished: its own follow-ups may still be on their way.
    const fresh = await createConversation(em, user, { title: null, lastAnswer: 'complete' });
    await sql(`update messages set content = 'an answer' where id = ?`, [fresh.answer.id]);
    // Two hours old: outside the window.
    const old = await createConversation(em, user, { title: null, lastAnswer: 'complete' });
    await sql(`update messages set content = 'an answer' where id = ?`, [old.answer.id]);
    await agedMinutes(old.answer.id, 120);
    // Titled, and its embedding job is queued already.
    const queued = await createConversation(em, user, { title: 'kept', lastAnswer: 'complete' });
    await sql(`update messages set content = 'an answer' where id = ?`, [queued.answer.id]);
    await agedMinutes(queued.answer.id, 5);
    const { queues } = edge.runtime;
    await queues.add(
      'ingest',
      'embed-messages',
      { userId: user.id, messageId: queued.answer.id },
      { jobId: embedJobId(queued.answer.id) },
    );

    const repair = new FollowUpRepair({ queues, logger: createLogger('silent') });
    expect(await repair.repair(em, 60_000)).to.deep.equal({ titles: 1, embeddings: 1 });
    const title = await queues.get('chat').getJob(titleJobId(lost.conversation.id));
    expect(title?.name).to.equal('generate-title');
    expect(title?.data).to.deep.equal({ userId: user.id, conversationId: lost.conversation.id });
    const embedding = await queues.get('ingest').getJob(embedJobId(lost.answer.id));
    expect(embedding?.data).to.deep.equal({ userId: user.id, messageId: lost.answer.id });
    for (const id of [fresh.conversation.id, old.conversation.id])
      expect(await queues.get('chat').getJob(titleJobId(id))).to.equal(undefined);
    // The next sweep finds the jobs in their queues: nothing twice.
    expect(await repair.repair(em, 60_000)).to.deep.equal({ titles: 0, embeddings: 0 });
  });
});
