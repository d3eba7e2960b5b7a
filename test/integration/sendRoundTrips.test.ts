import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Redis as RedisClient } from 'ioredis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import type { AnswerLifecycle } from '../../src/answers/AnswerLifecycle.ts';
import { ChatService } from '../../src/chat/ChatService.ts';
import { loadConfig } from '../../src/config.ts';
import { Conversation } from '../../src/db/entities/Conversation.ts';
import { Message } from '../../src/db/entities/Message.ts';
import { User } from '../../src/db/entities/User.ts';
import { type Orm, openDatabase } from '../../src/db/orm.ts';
import type { AppError } from '../../src/errors/AppError.ts';
import { createLogger } from '../../src/logger.ts';
import type { Queues } from '../../src/queues/Queues.ts';
import type { AckError } from '../../src/relay/events.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { createConversation, createDocument, createUser } from '../support/factories.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { emitAck } from '../support/socketAck.ts';

interface SendAck {
  conversationId: string;
  userMessageId: string;
  assistantMessageId: string;
}

/**
 * What one chat:send costs between the emit and its ack: every statement sent to Postgres
 * (begin and commit included) and every command any Redis connection of the process sends.
 * Before the one-statement send: 5 statements for a new conversation, 6 into an existing one or
 * with a clientMessageId; Redis then as now: the limiter's EVAL and BullMQ's add (EVALSHA). The
 * bounds pin the lean path, so a lookup that creeps back in fails here.
 */
describe('chat:send: its round trips (Postgres and Redis) until the ack, and what it refuses', function () {
  this.timeout(30_000);
  let edge: TestEdge;
  let session: Session;
  let socket: Socket;
  const sql: string[] = [];
  const redis: string[] = [];
  let counting = false;
  const restore: Array<() => void> = [];

  before(async () => {
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (counting) {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
        sql.push(String(text).slice(0, 160));
      }
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    restore.push(() => {
      pg.Client.prototype.query = query;
    });
    const sendCommand = Redis.prototype.sendCommand;
    Redis.prototype.sendCommand = function (this: Redis, command, ...rest) {
      if (counting) redis.push(`${this.options.connectionName} ${command.name}`);
      return sendCommand.call(this, command, ...rest);
    };
    restore.push(() => {
      Redis.prototype.sendCommand = sendCommand;
    });

    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('roundtrips'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('roundtrips'),
      RATE_LIMIT_MESSAGES: '10000/1m',
    });
    const api = new ApiClient(edge.url);
    session = await api.signup('roundtrips');
    socket = io(edge.url, {
      transports: ['websocket'],
      reconnection: false,
      auth: { token: session.accessToken },
    });
    await new Promise<void>((connected, failed) => {
      socket.once('connect', connected);
      socket.once('connect_error', failed);
    });
    // Warm up: metadata, pool connections and BullMQ's scripts are loaded once per process.
    const [error] = await emitAck<SendAck>(socket, 'chat:send', { content: 'warm up' });
    expect(error).to.equal(null);
  });
  after(async () => {
    for (const undo of restore) undo();
    socket?.disconnect();
    await edge?.stop();
  });

  /** Sends and counts what went to Postgres and Redis until the ack arrived. */
  const measured = async (payload: Record<string, unknown>) => {
    sql.length = 0;
    redis.length = 0;
    counting = true;
    const [error, result] = await emitAck<SendAck>(socket, 'chat:send', payload);
    counting = false;
    expect(error, JSON.stringify(error)).to.equal(null);
    const counts = { postgres: sql.length, redis: redis.length };
    return { result: result!, counts, sql: [...sql], redis: [...redis] };
  };

  /** Rows of the user's, to show a refused send stored nothing. */
  const storedRows = async () => {
    const em = edge.runtime.orm.em.fork();
    const userId = session.user.id;
    return {
      messages: await em.count(Message, { user: userId }),
      conversations: await em.count(Conversation, { user: userId }),
    };
  };

  // Before: 5 statements for a new conversation (the User read, begin, two inserts, commit), 6
  // into an existing one or with a clientMessageId (its lookup first). Now one statement each.
  it('a new conversation: one statement, and the limiter and the enqueue on Redis', async () => {
    const { counts, sql: statements, redis: commands } = await measured({ content: 'first question' });
    expect(counts.postgres, statements.join('\n')).to.equal(1);
    expect(commands, commands.join('\n')).to.have.length(2);
  });

  it('into an existing conversation: one statement', async () => {
    const first = await measured({ content: 'opening' });
    const followUp = await measured({ content: 'follow-up', conversationId: first.result.conversationId });
    expect(followUp.counts.postgres, followUp.sql.join('\n')).to.equal(1);
    expect(followUp.redis, followUp.redis.join('\n')).to.have.length(2);
    expect(followUp.result.conversationId).to.equal(first.result.conversationId);
  });

  it('with a clientMessageId: one statement; its resend answers the same ids and stores nothing', async () => {
    const clientMessageId = `c-${Date.now()}`;
    const sent = await measured({ content: 'idempotent', clientMessageId });
    expect(sent.counts.postgres, sent.sql.join('\n')).to.equal(1);
    const before = await storedRows();
    const again = await measured({ content: 'idempotent', clientMessageId });
    expect(again.result).to.deep.equal(sent.result);
    // The refused insert, then the turn it found (the user message, its answer).
    expect(again.counts.postgres, again.sql.join('\n')).to.be.at.most(3);
    // The limiter, and the enqueue again of the still-pending answer (a no-op: its job exists).
    expect(again.redis, again.redis.join('\n')).to.have.length(2);
    expect(await storedRows()).to.deep.equal(before);
  });

  it('a resend enqueues a pending answer whose job is gone (an edge stopped between storing and enqueueing)', async () => {
    const clientMessageId = `lost-${Date.now()}`;
    const sent = await measured({ content: 'will my job survive?', clientMessageId });
    const chatQueue = edge.runtime.queues.get('chat');
    await chatQueue.remove(sent.result.assistantMessageId);
    expect(await chatQueue.getJob(sent.result.assistantMessageId)).to.equal(undefined);
    const again = await measured({ content: 'will my job survive?', clientMessageId });
    expect(again.result).to.deep.equal(sent.result);
    const job = await chatQueue.getJob(sent.result.assistantMessageId);
    expect(job?.data).to.deep.include({ messageId: sent.result.assistantMessageId });
  });

  it('attaches the user’s documents to a new conversation (one check more), and refuses another’s, storing nothing', async () => {
    const em = edge.runtime.orm.em.fork();
    const mine = await createDocument(em, em.getReference(User, session.user.id));
    const theirs = await createDocument(em, await createUser(em));
    const sent = await measured({
      content: 'about my notes',
      mode: 'grounded',
      documentIds: [mine.id, mine.id],
    });
    expect(sent.counts.postgres, sent.sql.join('\n')).to.equal(2);
    const conversation = await edge.runtime.orm.em
      .fork()
      .findOneOrFail(Conversation, sent.result.conversationId, { populate: ['documents'] });
    expect(conversation.mode).to.equal('grounded');
    expect(conversation.documents.getItems().map((document) => document.id)).to.deep.equal([mine.id]);

    const before = await storedRows();
    const [error] = await emitAck(socket, 'chat:send', { content: 'x', documentIds: [mine.id, theirs.id] });
    expect(error?.code).to.equal('not_found');
    expect(await storedRows()).to.deep.equal(before);
  });

  it('refuses another user’s conversation not_found, storing nothing', async () => {
    const em = edge.runtime.orm.em.fork();
    const { conversation } = await createConversation(em, await createUser(em));
    const before = await storedRows();
    const [error] = await emitAck(socket, 'chat:send', {
      content: 'hijack',
      conversationId: conversation.id,
    });
    expect(error?.code).to.equal('not_found');
    expect(await storedRows()).to.deep.equal(before);
    expect(await em.fork().count(Message, { conversation: conversation.id })).to.equal(2);
  });

  it('ends the answer failed and acks unavailable when the job can’t be enqueued; the user’s message stays', async () => {
    const { queues } = edge.runtime;
    const add = queues.add;
    queues.add = (() => Promise.reject(new Error('Connection is closed.'))) as typeof queues.add;
    let ack: [AckError | null, SendAck | undefined];
    try {
      ack = await emitAck<SendAck>(socket, 'chat:send', { content: 'queue away', clientMessageId: 'q-away' });
    } finally {
      queues.add = add;
    }
    expect(ack[0]?.code).to.equal('unavailable');
    const stored = await edge.runtime.orm.em
      .fork()
      .find(Message, { user: session.user.id, clientMessageId: 'q-away' });
    expect(stored.map((message) => message.status)).to.deep.equal(['complete']);
    const answer = await edge.runtime.orm.em
      .fork()
      .findOneOrFail(Message, { user: session.user.id, replyTo: stored[0]!.id });
    expect(answer.status).to.equal('failed');
  });

  it('refuses an account disabled while its socket is open, storing nothing (checked in the same statement)', async () => {
    const em = edge.runtime.orm.em.fork();
    await em.nativeUpdate(User, { id: session.user.id }, { disabledAt: new Date() });
    const before = await storedRows();
    try {
      const [error] = await emitAck(socket, 'chat:send', { content: 'still here?' });
      expect(error?.code).to.equal('unauthorized');
      expect(await storedRows()).to.deep.equal(before);
    } finally {
      await em.nativeUpdate(User, { id: session.user.id }, { disabledAt: null });
    }
  });
});

/** The same statement on embedded PGlite (`npm start`), through ChatService with a stand-in queue. */
describe('chat:send’s statement on embedded PGlite', function () {
  this.timeout(60_000);
  let dataDir: string;
  let orm: Orm;
  const enqueued: string[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-send-'));
    const logger = createLogger('silent');
    orm = await openDatabase(loadConfig({ DATA_DIR: dataDir }), logger);
    const queues = {
      prefix: 'unused',
      add: async (_queue: string, _name: string, payload: { messageId: string }) => {
        enqueued.push(payload.messageId);
        return {};
      },
    } as unknown as Queues;
    chat = new ChatService({
      orm,
      queues,
      redis: {} as RedisClient,
      logger,
      publisherFor: () => {
        throw new Error('no answer ends here');
      },
      lifecycle: {} as AnswerLifecycle,
    });
  });
  let chat: ChatService;
  after(async () => {
    await orm?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stores a turn, adds to its conversation, answers a resend with the same ids, and refuses others', async () => {
    const em = orm.em.fork();
    const [alice, bob] = [await createUser(em), await createUser(em)];
    const document = await createDocument(em, alice);
    const first = await chat.send(alice.id, { content: 'hello', documentIds: [document.id] });
    const second = await chat.send(alice, {
      content: 'again',
      conversationId: first.conversation.id,
      clientMessageId: 'pglite-1',
    });
    const resent = await chat.send(alice.id, {
      content: 'again',
      conversationId: first.conversation.id,
      clientMessageId: 'pglite-1',
    });
    expect(resent.created).to.equal(false);
    expect(resent.assistantMessage.id).to.equal(second.assistantMessage.id);
    // The resend of a still-pending answer enqueues it again (the same job id: BullMQ keeps one job).
    expect(enqueued).to.deep.equal([
      first.assistantMessage.id,
      second.assistantMessage.id,
      second.assistantMessage.id,
    ]);

    const stored = await orm.em
      .fork()
      .find(Message, { conversation: first.conversation.id }, { orderBy: { id: 'asc' } });
    expect(stored.map((message) => [message.role, message.status, message.content])).to.deep.equal([
      ['user', 'complete', 'hello'],
      ['assistant', 'pending', ''],
      ['user', 'complete', 'again'],
      ['assistant', 'pending', ''],
    ]);
    expect(stored[3]!.replyTo).to.equal(stored[2]!.id);
    const conversation = await orm.em
      .fork()
      .findOneOrFail(Conversation, first.conversation.id, { populate: ['documents'] });
    expect(conversation.documents.getItems().map((attached) => attached.id)).to.deep.equal([document.id]);

    const refused = await chat
      .send(bob.id, { content: 'hijack', conversationId: first.conversation.id })
      .catch((error: AppError) => error.code);
    expect(refused).to.equal('not_found');
    expect(await orm.em.fork().count(Message, { conversation: first.conversation.id })).to.equal(4);
  });
});
