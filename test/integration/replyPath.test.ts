import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import { expect } from 'chai';
import pg from 'pg';
import { ReplyContext } from '../../src/answers/context/ReplyContext.ts';
import type { Runtime } from '../../src/compose/runtime.ts';
import { composeWorker } from '../../src/compose/worker.ts';
import { Message } from '../../src/db/entities/Message.ts';
import { createLlmProvider } from '../../src/llm/createLlmProvider.ts';
import type { LlmProvider } from '../../src/llm/LlmProvider.ts';
import { countTokens } from '../../src/llm/tokenCount.ts';
import { createRealtimeEmitter, type RealtimeEmitter } from '../../src/relay/emitter.ts';
import { Notifier } from '../../src/relay/Notifier.ts';
import type { DocumentRetriever } from '../../src/retrieval/DocumentRetriever.ts';
import type { GenerateReplyTask } from '../../workers/tasks/GenerateReplyTask.ts';
import { createTasks } from '../../workers/tasks/index.ts';
import { createConversation, createDocument, createUser } from '../support/factories.ts';
import { GroqStub } from '../support/GroqStub.ts';
import { openTaskRuntime } from '../support/taskRuntime.ts';

/** What happened, in order: statements sent to Postgres, the model request, tokens, events to tabs. */
type Step =
  | { kind: 'sql'; text: string }
  | { kind: 'committed-streaming' }
  | { kind: 'model-request' }
  | { kind: 'model-token' }
  | { kind: 'emit'; event: string; delta?: string };

const STREAMING_UPDATE = /update "messages" set "status" = 'streaming'/;

/**
 * The reply task's path up to the model call, called directly on real Postgres and Redis with
 * the Groq stub: how many statements it sends before the request (pinned), that the request
 * does not wait for the `streaming` write while no token leaves before that write is committed,
 * and the token counts stored with messages.
 */
describe('reply path: round trips before the model call, and the streaming write', function () {
  this.timeout(30_000);
  let stub: GroqStub;
  let runtime: Runtime;
  let task: GenerateReplyTask;
  let steps: Step[] = [];
  let recording = false;
  /** Holds the `streaming` write this long before sending it (0: not at all). */
  let streamingWriteDelayMs = 0;
  let beforeStreamingWrite: (() => Promise<void>) | null = null;
  const restore: Array<() => void> = [];

  before(async () => {
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const text = String(typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text);
      const send = () => (query as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      if (!recording) return send();
      steps.push({ kind: 'sql', text: text.slice(0, 200) });
      if (!STREAMING_UPDATE.test(text)) return send();
      return (async () => {
        if (streamingWriteDelayMs > 0) await sleep(streamingWriteDelayMs);
        if (beforeStreamingWrite) await beforeStreamingWrite();
        const result = await send();
        steps.push({ kind: 'committed-streaming' });
        return result;
      })();
    } as typeof query;
    restore.push(() => {
      pg.Client.prototype.query = query;
    });

    stub = await GroqStub.start({ ttftMs: 1, tokensPerSecond: 5_000, answerTokens: 12 });
    runtime = await openTaskRuntime('replypath', stub);
    const { config } = runtime;
    const streamRedis = runtime.redis.create('pubsub', 'reply-path');
    const realEmitter = createRealtimeEmitter(streamRedis, config.redis.queuePrefix);
    const emitter = {
      to: (room: string) => ({
        emit: (event: string, data: unknown) => {
          if (recording) steps.push({ kind: 'emit', event, delta: (data as { delta?: string }).delta });
          (realEmitter.to(room).emit as (e: string, d: unknown) => void)(event, data);
        },
      }),
    } as unknown as RealtimeEmitter;
    const real = createLlmProvider(config);
    const provider: LlmProvider = {
      name: real.name,
      stream: (request, onToken) => {
        if (recording) steps.push({ kind: 'model-request' });
        return real.stream(request, (delta) => {
          if (recording) steps.push({ kind: 'model-token' });
          onToken(delta);
        });
      },
      complete: (request) => real.complete(request),
      probe: (signal) => real.probe(signal),
    };
    const parts = await composeWorker(runtime, ['chat'], { builtIn: provider, emitter, listen: false });
    task = createTasks(parts).chat['generate-reply'] as GenerateReplyTask;
  });
  beforeEach(() => {
    stub.reset();
    steps = [];
    streamingWriteDelayMs = 0;
    beforeStreamingWrite = null;
  });
  after(async () => {
    for (const undo of restore) undo();
    await runtime?.shutdown.run('test finished');
    await stub?.close();
  });

  /** Runs the task for `answer`, as `userId` (its owner unless said otherwise). */
  const reply = async (answer: Message, userId = answer.user.id) => {
    recording = true;
    try {
      return await task.perform(
        { userId, conversationId: answer.conversation.id, messageId: answer.id },
        {
          job: { timestamp: Date.now() } as Job,
          logger: runtime.logger,
          em: runtime.orm.em.fork(),
          config: runtime.config,
          notify: new Notifier(createRealtimeEmitter(runtime.redis.create('pubsub', 'ctx'), 'unused')),
          signal: new AbortController().signal,
        },
      );
    } finally {
      recording = false;
    }
  };
  const statementsBefore = (kind: Step['kind']) => {
    const index = steps.findIndex((step) => step.kind === kind);
    expect(index, `no ${kind}`).to.be.greaterThan(-1);
    return steps.slice(0, index).filter((step): step is Step & { kind: 'sql' } => step.kind === 'sql');
  };
  const stored = (id: string) => runtime.orm.em.fork().findOneOrFail(Message, { id });
  const newAnswer = async (turns = ['First?', 'Second?', 'Third?']) => {
    const em = runtime.orm.em.fork();
    return (await createConversation(em, await createUser(em), { turns })).answer;
  };

  it('sends at most 4 statements to Postgres before the model request (2 once settings and providers are cached)', async () => {
    // The first answer of the process also reads the settings and the configured model providers,
    // in the same round trip as the answer's own reads.
    expect(await reply(await newAnswer())).to.include({ outcome: 'complete' });
    const cold = statementsBefore('model-request');
    expect(cold.length, cold.map((step) => step.text).join('\n')).to.be.at.most(4);

    steps = [];
    expect(await reply(await newAnswer())).to.include({ outcome: 'complete' });
    const warm = statementsBefore('model-request');
    expect(warm.length, warm.map((step) => step.text).join('\n')).to.be.at.most(2);
    // No transaction on this path: no begin/commit round trips.
    expect(warm.some((step) => /^(begin|commit)/i.test(step.text))).to.equal(false);
  });

  it('asks the model without waiting for the streaming write, but publishes nothing before it commits', async () => {
    streamingWriteDelayMs = 300;
    const answer = await newAnswer();
    expect(await reply(answer)).to.include({ outcome: 'complete' });
    const at = (predicate: (step: Step) => boolean) => steps.findIndex(predicate);
    const committed = at((step) => step.kind === 'committed-streaming');
    const request = at((step) => step.kind === 'model-request');
    const firstToken = at((step) => step.kind === 'model-token');
    const firstEmit = at((step) => step.kind === 'emit');
    expect(request).to.be.greaterThan(-1).and.lessThan(committed);
    // The stub answered while the write was held: its tokens waited in the task.
    expect(firstToken).to.be.greaterThan(-1).and.lessThan(committed);
    expect(firstEmit).to.be.greaterThan(committed);
    const emitted = steps.flatMap((step) => (step.kind === 'emit' ? [step.event] : []));
    expect(emitted[0]).to.equal('chat:started');
    expect(emitted.at(-1)).to.equal('chat:done');
    // Nothing held back was lost: the tabs got the whole stored text, from seq 1.
    const message = await stored(answer.id);
    expect(message.status).to.equal('complete');
    expect(message.content.length).to.be.greaterThan(0);
    const deltas = steps.flatMap((step) =>
      step.kind === 'emit' && step.event === 'chat:token' ? [step.delta] : [],
    );
    expect(deltas.join('')).to.equal(message.content);
  });

  it('drops the model request and publishes nothing when the answer ended before the streaming write', async () => {
    const answer = await newAnswer();
    beforeStreamingWrite = async () => {
      recording = false; // the cancel below is someone else's statement
      const other = new pg.Client({ connectionString: runtime.config.database.url! });
      await other.connect();
      await other.query(`update messages set status = 'cancelled' where id = $1`, [answer.id]);
      await other.end();
      recording = true;
    };
    expect(await reply(answer)).to.deep.equal({ skipped: 'ended' });
    expect(steps.some((step) => step.kind === 'emit')).to.equal(false);
    expect((await stored(answer.id)).status).to.equal('cancelled');
  });

  it('loads every attached document with the answer, in the one joined query', async () => {
    const em = runtime.orm.em.fork();
    const user = await createUser(em);
    const { conversation, answer } = await createConversation(em, user, { turns: ['One?', 'Two?'] });
    const documents = [await createDocument(em, user), await createDocument(em, user)];
    conversation.documents.set(documents);
    await em.flush();
    recording = true;
    steps = [];
    const loaded = await new ReplyContext({ retriever: {} as DocumentRetriever, contextTokens: 1_000 }).load(
      runtime.orm.em.fork(),
      { userId: user.id, messageId: answer.id },
    );
    recording = false;
    expect(steps.filter((step) => step.kind === 'sql')).to.have.length(2);
    expect(loaded!.answer.id).to.equal(answer.id);
    expect(loaded!.conversation.documents.isInitialized()).to.equal(true);
    expect(
      loaded!.conversation.documents
        .getItems()
        .map((document) => document.id)
        .sort(),
    ).to.deep.equal(documents.map((document) => document.id).sort());
    expect(loaded!.history.map((row) => row.content)).to.deep.equal(['One?', 'answer 1', 'Two?']);
  });

  it("finds nothing through another user's id: no answer, no history, no model request", async () => {
    const answer = await newAnswer();
    const stranger = await createUser(runtime.orm.em.fork());
    const result = await reply(answer, stranger.id);
    expect(result).to.deep.equal({ skipped: 'deleted' });
    expect(steps.some((step) => step.kind === 'model-request')).to.equal(false);
    expect((await stored(answer.id)).status).to.equal('pending');
  });

  it('stores token counts: each answer with its text, older turns counted once when first read', async () => {
    const answer = await newAnswer();
    expect(await reply(answer)).to.include({ outcome: 'complete' });
    const em = runtime.orm.em.fork();
    const mine = await em.findOneOrFail(Message, { id: answer.id });
    expect(mine.tokenCount).to.equal(countTokens(mine.content));
    // The factory wrote the earlier turns without counts (like rows from before the column).
    let rows: Message[] = [];
    for (let tries = 0; tries < 50; tries++) {
      rows = await runtime.orm.em.fork().find(Message, { conversation: answer.conversation.id });
      if (rows.every((row) => row.tokenCount !== null)) break;
      await sleep(20);
    }
    for (const row of rows) expect(row.tokenCount, row.content).to.equal(countTokens(row.content));
  });

  it('budgets the prompt with the stored count, without tokenizing the turn again', async () => {
    const answer = await newAnswer(['Old question?', 'New question?']);
    const em = runtime.orm.em.fork();
    // A stored count larger than the whole context: the turn must be left out of the prompt.
    await em.nativeUpdate(
      Message,
      { conversation: answer.conversation.id, content: 'Old question?' },
      { tokenCount: 1_000_000 },
    );
    expect(await reply(answer)).to.include({ outcome: 'complete' });
    const prompt = JSON.stringify(
      stub.requests.find((request) => request.body.stream === true)!.body.messages,
    );
    expect(prompt).to.include('New question?').and.not.include('Old question?');
  });
});
