import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { expect } from 'chai';
import { NO_DOCUMENTS_ANSWER } from '../../src/answers/context/groundedPrompt.ts';
import type { Runtime } from '../../src/compose/runtime.ts';
import { composeWorker } from '../../src/compose/worker.ts';
import { DocumentChunk } from '../../src/db/entities/DocumentChunk.ts';
import { DocumentFile } from '../../src/db/entities/DocumentFile.ts';
import { Message } from '../../src/db/entities/Message.ts';
import { cancelFlagKey } from '../../src/redis/keys.ts';
import { createRealtimeEmitter } from '../../src/relay/emitter.ts';
import { Notifier } from '../../src/relay/Notifier.ts';
import type { ReplayReader } from '../../src/relay/ReplayReader.ts';
import type { TaskContext } from '../../workers/Task.ts';
import { createTasks, type TaskRegistry } from '../../workers/tasks/index.ts';
import { createConversation, createDocument, createUser } from '../support/factories.ts';
import { GroqStub } from '../support/GroqStub.ts';
import { makeCorruptPdf } from '../support/pdfFactory.ts';
import { openTaskRuntime } from '../support/taskRuntime.ts';

/**
 * The reply and ingest tasks called directly, as a worker would call them, on real Postgres,
 * Redis and the test embedding model, with the Groq stub as the model: no edge, no queue, no
 * worker process. What each path stores and returns, and what the answer's tabs are told.
 */
describe('tasks without the stack: generate-reply and ingest-document', function () {
  this.timeout(30_000);
  let stub: GroqStub;
  let runtime: Runtime;
  let tasks: TaskRegistry;
  let replay: ReplayReader;

  before(async () => {
    stub = await GroqStub.start({ ttftMs: 1, tokensPerSecond: 5_000, answerTokens: 12 });
    runtime = await openTaskRuntime('tasks', stub);
    const parts = await composeWorker(runtime, ['chat', 'ingest', 'maintenance'], { listen: false });
    tasks = createTasks(parts);
    ({ replay } = parts.relay);
  });
  beforeEach(() => stub.reset());
  after(async () => {
    await runtime?.shutdown.run('test finished');
    await stub?.close();
  });

  const context = (): TaskContext => {
    const emitter = createRealtimeEmitter(
      runtime.redis.create('pubsub', 'ctx'),
      runtime.config.redis.queuePrefix,
    );
    return {
      job: { timestamp: Date.now() } as Job,
      logger: runtime.logger,
      em: runtime.orm.em.fork(),
      config: runtime.config,
      notify: new Notifier(emitter),
      signal: new AbortController().signal,
    };
  };
  const reply = (answer: Message) =>
    tasks.chat['generate-reply'].perform(
      { userId: answer.user.id, conversationId: answer.conversation.id, messageId: answer.id },
      context(),
    );
  const stored = (id: string) => runtime.orm.em.fork().findOneOrFail(Message, { id });
  const lastEvent = async (id: string) => (await replay.after(id, 0)).at(-1)?.event;
  const modelRequests = () => stub.requests.filter((request) => request.body.stream === true);

  describe('generate-reply', () => {
    it('answers with the model: complete, with the streamed text, and chat:done', async () => {
      const em = runtime.orm.em.fork();
      const { answer } = await createConversation(em, await createUser(em), { turns: ['First?', 'Second?'] });
      expect(await reply(answer)).to.include({ outcome: 'complete' });
      const message = await stored(answer.id);
      expect(message.status).to.equal('complete');
      expect(message.content.length).to.be.greaterThan(0);
      const event = await lastEvent(answer.id);
      expect(event).to.deep.include({ event: 'chat:done' });
      expect(event!.data).to.include({ content: message.content, status: 'complete' });
      // The earlier turn and its answer went into the prompt.
      const prompt = JSON.stringify(modelRequests()[0]!.body.messages);
      expect(prompt).to.include('First?').and.include('answer 1').and.include('Second?');
    });

    it('skips an answer that has already ended, and one that was deleted', async () => {
      const em = runtime.orm.em.fork();
      const { answer } = await createConversation(em, await createUser(em), { lastAnswer: 'complete' });
      expect(await reply(answer)).to.deep.equal({ skipped: 'complete' });
      await em.nativeDelete(Message, { id: answer.id });
      expect(await reply(answer)).to.deep.equal({ skipped: 'deleted' });
      expect(modelRequests()).to.have.length(0);
    });

    it('ends an answer found streaming (its worker died) as interrupted, without asking again', async () => {
      const em = runtime.orm.em.fork();
      const { answer } = await createConversation(em, await createUser(em), { lastAnswer: 'streaming' });
      expect(await reply(answer)).to.deep.equal({ outcome: 'interrupted' });
      expect(await stored(answer.id)).to.include({ status: 'failed' });
      expect((await lastEvent(answer.id))!.data).to.include({ retryable: true });
      expect(modelRequests()).to.have.length(0);
    });

    it('ends an answer cancelled before it started as cancelled, without asking the model', async () => {
      const em = runtime.orm.em.fork();
      const { answer } = await createConversation(em, await createUser(em));
      await runtime.redis
        .create('pubsub', 'cancel-flag')
        .set(cancelFlagKey(runtime.config.redis.queuePrefix, answer.id), '1', 'EX', 60);
      expect(await reply(answer)).to.deep.equal({ outcome: 'cancelled' });
      expect(await stored(answer.id)).to.include({ status: 'cancelled' });
      expect((await lastEvent(answer.id))!.data).to.include({ status: 'cancelled' });
      expect(modelRequests()).to.have.length(0);
    });

    it('ends failed and tells the tab when the model fails, and never lets BullMQ retry it', async () => {
      stub.enqueueFaults({ kind: 'server_error', status: 503 });
      const em = runtime.orm.em.fork();
      const { answer } = await createConversation(em, await createUser(em));
      const attempt = await reply(answer).then(
        () => null,
        (error: unknown) => error,
      );
      expect(attempt).to.be.instanceOf(UnrecoverableError);
      expect(await stored(answer.id)).to.include({ status: 'failed' });
      // Started, then ended before any token: the end is still in the replay log, after the start.
      expect((await replay.after(answer.id, 0)).map(({ event }) => event.event)).to.deep.equal([
        'chat:started',
        'chat:error',
      ]);
      expect((await lastEvent(answer.id))!.data).to.include({ code: 'llm_unavailable', retryable: true });
    });

    it('answers a grounded question with no documents with the fixed answer, without the model', async () => {
      const em = runtime.orm.em.fork();
      const { answer } = await createConversation(em, await createUser(em), { mode: 'grounded' });
      expect(await reply(answer)).to.include({ outcome: 'complete', model: null });
      expect(await stored(answer.id)).to.include({ status: 'complete', content: NO_DOCUMENTS_ANSWER });
      expect(modelRequests()).to.have.length(0);
    });
  });

  describe('ingest-document', () => {
    const ingest = (document: { id: string; user: { id: string } }) =>
      tasks.ingest['ingest-document'].perform(
        { userId: document.user.id, documentId: document.id },
        context(),
      );

    async function uploaded(bytes: Uint8Array | string, mime: string) {
      const em = runtime.orm.em.fork();
      const document = await createDocument(em, await createUser(em), { status: 'queued' });
      document.mime = mime;
      em.create(DocumentFile, { document, bytes: Buffer.from(bytes) });
      await em.flush();
      return document;
    }

    it('chunks, embeds and stores a text document, then marks it ready', async () => {
      const text = Array.from({ length: 40 }, (_, i) => `Sentence ${i} says something about turbines.`).join(
        ' ',
      );
      const document = await uploaded(text, 'text/plain');
      const result = (await ingest(document)) as { outcome: string; chunkCount: number };
      expect(result.outcome).to.equal('ready');
      expect(result.chunkCount).to.be.greaterThan(0);
      const chunks = await runtime.orm.em.fork().find(DocumentChunk, { document: document.id });
      expect(chunks).to.have.length(result.chunkCount);
      expect(chunks.every((chunk) => chunk.embedding.length === 384)).to.equal(true);
    });

    it('ends an unreadable file failed at once, with a reason and no chunks', async () => {
      const document = await uploaded(makeCorruptPdf(), 'application/pdf');
      expect(await ingest(document)).to.include({ outcome: 'failed' });
      const em = runtime.orm.em.fork();
      expect(await em.count(DocumentChunk, { document: document.id })).to.equal(0);
      const [row] = await em
        .getConnection()
        .execute('select status, error from documents where id = ?', [document.id]);
      expect(row.status).to.equal('failed');
      expect(row.error).to.be.a('string').and.not.equal('');
    });

    it('ends a document failed after its last attempt, its partial chunks removed', async () => {
      const em = runtime.orm.em.fork();
      const document = await createDocument(em, await createUser(em), {
        status: 'processing',
        chunks: ['half', 'stored'],
      });
      await tasks.ingest['ingest-document'].onFailed(
        { userId: document.user.id, documentId: document.id },
        new Error('connect ECONNREFUSED'),
        context(),
      );
      const [row] = await em
        .getConnection()
        .execute('select status, error from documents where id = ?', [document.id]);
      expect(row).to.deep.equal({
        status: 'failed',
        error: 'The document could not be processed. Try uploading it again later.',
      });
      expect(await em.count(DocumentChunk, { document: document.id })).to.equal(0);
    });

    it('does nothing for a document deleted before its job ran', async () => {
      const em = runtime.orm.em.fork();
      const document = await createDocument(em, await createUser(em), { status: 'queued' });
      await em.getConnection().execute('delete from documents where id = ?', [document.id]);
      expect(await ingest(document)).to.deep.equal({ outcome: 'deleted' });
    });
  });
});
