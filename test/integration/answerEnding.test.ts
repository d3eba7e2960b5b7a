import { expect } from 'chai';
import { Redis } from 'ioredis';
import { AnswerLifecycle } from '../../src/answers/AnswerLifecycle.ts';
import { loadConfig } from '../../src/config.ts';
import { Conversation } from '../../src/db/entities/Conversation.ts';
import { Message } from '../../src/db/entities/Message.ts';
import { type Orm, openDatabase } from '../../src/db/orm.ts';
import { createLogger } from '../../src/logger.ts';
import { createRealtimeEmitter } from '../../src/relay/emitter.ts';
import type { StreamEvent } from '../../src/relay/events.ts';
import { ReplayReader } from '../../src/relay/ReplayReader.ts';
import { type StreamTarget, TokenPublisher } from '../../src/relay/TokenPublisher.ts';
import { createConversation, createUser } from '../support/factories.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

/**
 * Every way an answer ends, against real Postgres and Redis but without an edge, a queue or a
 * worker: what is stored, and what its tabs are told (the relay's replay log holds exactly the
 * events the emitter sends to the user's room).
 */
describe('AnswerLifecycle: every way an answer ends', () => {
  const logger = createLogger('silent');
  const prefix = uniqueQueuePrefix('ending');
  let orm: Orm;
  let redis: Redis;
  let replay: ReplayReader;
  let ending: AnswerLifecycle;

  const publisherFor = (target: StreamTarget, resumeFrom?: { text: string; seq: number }) =>
    new TokenPublisher(
      { redis, emitter: createRealtimeEmitter(redis, prefix), logger },
      target,
      { prefix, flushMs: 5, flushChars: 1_000, ttlSeconds: 60 },
      resumeFrom,
    );

  before(async () => {
    orm = await openDatabase(loadConfig({ DATABASE_URL: await createTestDatabase('ending') }), logger);
    redis = new Redis(TEST_REDIS_URL);
    replay = new ReplayReader(redis, prefix);
    ending = new AnswerLifecycle({ em: () => orm.em.fork(), publisherFor, replay, logger });
  });
  after(async () => {
    await orm?.close();
    redis?.disconnect();
  });

  /** A pending answer of a new user's conversation, and a publisher that has streamed `text`. */
  async function streaming(text = '') {
    const em = orm.em.fork();
    const { conversation, answer } = await createConversation(em, await createUser(em));
    const target = { userId: answer.user.id, conversationId: conversation.id, messageId: answer.id };
    const publisher = publisherFor(target);
    if (text) {
      publisher.started();
      publisher.push(text);
    }
    return { target, publisher };
  }
  const stored = (id: string) => orm.em.fork().findOneOrFail(Message, { id });
  const told = async (id: string): Promise<StreamEvent[]> =>
    (await replay.after(id, 0))
      .map(({ event }) => event)
      .filter(({ event }) => event.startsWith('chat:d') || event === 'chat:error');

  it('complete: stores text, usage, timings and citations, touches the conversation, then chat:done', async () => {
    const { target, publisher } = await streaming('The answer [1].');
    const citations = [
      { n: 1, documentId: 'd', chunkId: 'c', filename: 'a.txt', page: 2, snippet: 's', score: 0.9 },
    ];
    const facts = { model: 'm', promptTokens: 10, completionTokens: 4, ttftMs: 5, latencyMs: 9, citations };
    expect(await ending.complete(target, publisher, facts)).to.equal(true);

    expect(await stored(target.messageId)).to.include({
      status: 'complete',
      content: 'The answer [1].',
      model: 'm',
      promptTokens: 10,
      completionTokens: 4,
      ttftMs: 5,
      latencyMs: 9,
      error: null,
    });
    expect((await stored(target.messageId)).citations).to.deep.equal(citations);
    const conversation = await orm.em.fork().findOneOrFail(Conversation, { id: target.conversationId });
    expect(conversation.lastMessageAt).to.be.instanceOf(Date);
    const [done] = await told(target.messageId);
    expect(done).to.deep.include({ event: 'chat:done' });
    expect(done!.data).to.include({ status: 'complete', content: 'The answer [1].', model: 'm' });
  });

  it('cancel: keeps the partial text, then chat:done with status cancelled', async () => {
    const { target, publisher } = await streaming('Half an ans');
    const facts = { model: 'm', promptTokens: 10, completionTokens: 3, ttftMs: 5, latencyMs: 7 };
    expect(await ending.cancel(target, publisher, facts)).to.equal(true);
    expect(await stored(target.messageId)).to.include({ status: 'cancelled', content: 'Half an ans' });
    const [done] = await told(target.messageId);
    expect(done!.data).to.include({ status: 'cancelled', content: 'Half an ans' });
  });

  it('fail: keeps the partial text and the reason, then chat:error with its code and retryable', async () => {
    const { target, publisher } = await streaming('Partial');
    const failure = { error: 'The model refused.', retryable: false, code: 'llm_refused' };
    expect(await ending.fail(target, publisher, failure)).to.equal(true);
    expect(await stored(target.messageId)).to.include({
      status: 'failed',
      content: 'Partial',
      error: 'The model refused.',
    });
    expect(await told(target.messageId)).to.deep.equal([
      {
        event: 'chat:error',
        data: {
          conversationId: target.conversationId,
          messageId: target.messageId,
          code: 'llm_refused',
          message: 'The model refused.',
          retryable: false,
        },
      },
    ]);
  });

  it('interrupt: a writer that died left tokens in the replay log; the answer ends failed with them', async () => {
    const { target, publisher } = await streaming('Streamed before the crash');
    publisher.flush(); // then the worker is gone: no end from it
    expect(await ending.interrupt(target, 'The worker stopped.')).to.equal(true);
    expect(await stored(target.messageId)).to.include({
      status: 'failed',
      content: 'Streamed before the crash',
      error: 'The worker stopped.',
    });
    const [error] = await told(target.messageId);
    expect(error!.data).to.include({ retryable: true, message: 'The worker stopped.' });
  });

  it('fixed answer: streams the text like a model would, then completes without a model', async () => {
    const { target, publisher } = await streaming();
    expect(await ending.fixedAnswer(target, publisher, 'Your documents do not say.')).to.equal(true);
    expect(await stored(target.messageId)).to.include({
      status: 'complete',
      content: 'Your documents do not say.',
      model: null,
    });
    const events = (await replay.after(target.messageId, 0)).map(({ event }) => event.event);
    expect(events).to.deep.equal(['chat:started', 'chat:token', 'chat:done']);
  });

  it('fixed answer: leaves an answer that something else ended meanwhile as it was, telling no one', async () => {
    const em = orm.em.fork();
    const { conversation, answer } = await createConversation(em, await createUser(em), {
      lastAnswer: 'cancelled',
    });
    const target = { userId: answer.user.id, conversationId: conversation.id, messageId: answer.id };
    expect(await ending.fixedAnswer(target, publisherFor(target), 'Too late.')).to.equal(false);
    expect(await stored(answer.id)).to.include({ status: 'cancelled', content: '' });
    expect(await replay.after(answer.id, 0)).to.deep.equal([]);
  });

  it('ends an answer once: of two enders exactly one wins, and only it tells the tabs', async () => {
    const { target, publisher } = await streaming('Racing');
    const facts = {
      model: 'm',
      promptTokens: 1,
      completionTokens: 1,
      ttftMs: 1,
      latencyMs: 1,
      citations: [],
    };
    const results = await Promise.all([
      ending.complete(target, publisher, facts),
      ending.interrupt(target, 'Swept.'),
    ]);
    expect(results.filter(Boolean)).to.have.length(1);
    expect(await told(target.messageId)).to.have.length(1);
    // And an answer that already ended stays as it was.
    expect(await ending.fail(target, publisherFor(target), { error: 'late', retryable: true })).to.equal(
      false,
    );
    expect((await stored(target.messageId)).error).not.to.equal('late');
    expect(await told(target.messageId)).to.have.length(1);
  });
});
