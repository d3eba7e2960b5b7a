import { expect } from 'chai';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from '../../src/llm/tokenCount.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { ChildService } from '../support/ChildService.ts';
import { type ChatRequestBody, defaultTokens, GroqStub } from '../support/GroqStub.ts';
import {
  createTestDatabase,
  TEST_JWT_SECRET,
  TEST_REDIS_ENV,
  uniqueQueuePrefix,
} from '../support/services.ts';

const CONTEXT_TOKENS = 1_400;
const ANSWER_TOKENS = 1_024; // the maxTokens setting's default
const isStreaming = (body: ChatRequestBody) => body.stream === true;
const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('streaming chat: send → queue → worker → Groq → every tab', function () {
  this.timeout(60_000);
  const clients: ChatClient[] = [];
  let stub: GroqStub;
  let env: Record<string, string>;
  let edges: ChildService[];
  let edgeUrls: string[];
  let worker: ChildService;
  let api: ApiClient;
  let alice: Session;
  let bob: Session;

  const workerEnv = () => ({
    ...env,
    WORKER_QUEUES: 'chat,maintenance',
    GROQ_API_KEY: 'test-key',
    GROQ_BASE_URL: stub.baseURL,
    GROQ_MAX_RETRIES: '1',
    CHAT_CONTEXT_TOKENS: String(CONTEXT_TOKENS),
    JOB_LOCK_MS: '2000',
  });
  const startEdge = async () => {
    const edge = await ChildService.start(
      'src/web.ts',
      { ...env, PORT: '0', HOST: '127.0.0.1' },
      'edge listening',
    );
    const { port } = await edge.waitFor((line) => line.msg === 'edge listening');
    return { edge, url: `http://127.0.0.1:${port}` };
  };
  const connect = async (session: Session, edgeIndex = 0) => {
    const client = await ChatClient.connect(edgeUrls[edgeIndex]!, session.accessToken);
    clients.push(client);
    return client;
  };
  const storedMessage = async (session: Session, conversationId: string, messageId: string) => {
    const page = await api.request('GET', `/api/v1/conversations/${conversationId}/messages?limit=100`, {
      token: session.accessToken,
    });
    return page.body.items.find((item: { id: string }) => item.id === messageId);
  };
  /** A conversation that already has a title, so no title job talks to the stub meanwhile. */
  const titledConversation = async (session: Session) =>
    (
      await api.request('POST', '/api/v1/conversations', {
        token: session.accessToken,
        body: { title: 'fixed' },
      })
    ).body.id as string;

  before(async () => {
    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 2_000, answerTokens: 40 });
    env = {
      DATABASE_URL: await createTestDatabase('chat'),
      ...TEST_REDIS_ENV,
      QUEUE_PREFIX: uniqueQueuePrefix('chat'),
      JWT_SECRET: TEST_JWT_SECRET,
      STREAM_FLUSH_MS: '10',
      RATE_LIMIT_MESSAGES: '10000/1m',
    };
    worker = await ChildService.start('workers/index.ts', workerEnv(), 'workers started');
    const started = [await startEdge(), await startEdge()];
    edges = started.map(({ edge }) => edge);
    edgeUrls = started.map(({ url }) => url);
    api = new ApiClient(edgeUrls[0]!);
    [alice, bob] = [await api.signup('alice'), await api.signup('bob')];
  });
  beforeEach(() => stub.reset());
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all([...(edges ?? []), worker].map((service) => service?.stop()));
    await stub?.close();
  });

  it('delivers gap-free deltas whose concatenation equals chat:done and the stored message, byte for byte, for 20 concurrent conversations', async () => {
    const client = await connect(alice);
    const sent = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.send({ content: `question number ${i}: how are you?` })),
    );
    expect(new Set(sent.map((turn) => turn.conversationId)).size).to.equal(20);
    for (const turn of sent) {
      const answer = await client.untilEnded(turn.assistantMessageId);
      expect(answer.error, JSON.stringify(answer.error)).to.equal(undefined);
      const { text, gapFree } = client.text(turn.assistantMessageId);
      expect(gapFree).to.equal(true);
      expect(answer.done!.status).to.equal('complete');
      expect(bytes(text).equals(bytes(answer.done!.content))).to.equal(true);
      const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
      expect(stored.status).to.equal('complete');
      expect(bytes(stored.content).equals(bytes(text))).to.equal(true);
      expect(stored.usage.completionTokens).to.equal(40);
      expect(stored.ttftMs).to.be.a('number');
      expect(answer.done!.usage.completionTokens).to.equal(40);
    }
    // The stub's answers contain multi-byte text, so equality above is a real byte check.
    const sample = client.text(sent[0]!.assistantMessageId).text;
    expect(bytes(sample).length).to.be.greaterThan(sample.length);
  });

  it('streams to both tabs of a user on different edges, and to no one else', async () => {
    const [tab1, tab2, stranger] = [await connect(alice, 0), await connect(alice, 1), await connect(bob, 1)];
    const turn = await tab1.send({ content: 'hello from tab one' });
    const [first, second] = [
      await tab1.untilEnded(turn.assistantMessageId),
      await tab2.untilEnded(turn.assistantMessageId),
    ];
    expect(first.done!.content).to.equal(second.done!.content);
    expect(tab2.text(turn.assistantMessageId).text).to.equal(first.done!.content);
    expect(tab2.text(turn.assistantMessageId).gapFree).to.equal(true);
    expect(first.started && second.started).to.equal(true);
    // Bob's socket saw nothing of Alice's answer (or of any other).
    const bobTurn = await stranger.send({ content: 'bob asks' });
    await stranger.untilEnded(bobTurn.assistantMessageId);
    expect([...stranger.answers.keys()]).to.deep.equal([bobTurn.assistantMessageId]);
  });

  it('resumes after a disconnect on a different edge: the final text is complete and exactly once', async () => {
    stub.configure({ tokensPerSecond: 40, answerTokens: 40 });
    const before = await connect(alice, 0);
    const turn = await before.send({ content: 'a long answer please' });
    await before.untilTokens(turn.assistantMessageId, 3);
    before.close();
    const seen = before.text(turn.assistantMessageId);

    const after = await connect(alice, 1);
    // Carry over what the first connection had, as a client would.
    for (const [seq, delta] of before.answer(turn.assistantMessageId).tokens)
      after.answer(turn.assistantMessageId).tokens.set(seq, delta);
    const [error, resumed] = await after.emit<{ ok: true; replayed: number }>('chat:resume', {
      messageId: turn.assistantMessageId,
      afterSeq: seen.lastSeq,
    });
    expect(error).to.equal(null);
    expect(resumed!.ok).to.equal(true);
    const answer = await after.untilEnded(turn.assistantMessageId);
    const final = after.text(turn.assistantMessageId);
    expect(final.gapFree).to.equal(true);
    expect(final.text.startsWith(seen.text)).to.equal(true);
    expect(bytes(final.text).equals(bytes(answer.done!.content))).to.equal(true);
    const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
    expect(stored.content).to.equal(final.text);
  });

  it('replays a finished answer on resume, ending with chat:done', async () => {
    const client = await connect(alice, 0);
    const turn = await client.send({ content: 'short one' });
    const original = await client.untilEnded(turn.assistantMessageId);
    const late = await connect(alice, 1);
    await late.emit('chat:resume', { messageId: turn.assistantMessageId, afterSeq: 0 });
    const replayed = await late.untilEnded(turn.assistantMessageId);
    expect(late.text(turn.assistantMessageId).text).to.equal(original.done!.content);
    expect(replayed.done!.content).to.equal(original.done!.content);
  });

  it('cancels mid-stream: status cancelled, the partial text kept, the Groq request aborted', async () => {
    stub.configure({ tokensPerSecond: 20, answerTokens: 200 });
    const client = await connect(alice, 0);
    const turn = await client.send({
      content: 'tell me everything',
      conversationId: await titledConversation(alice),
    });
    await client.untilTokens(turn.assistantMessageId, 2);
    const [error, result] = await client.emit('chat:cancel', { messageId: turn.assistantMessageId });
    expect(error).to.equal(null);
    expect(result).to.deep.equal({ ok: true });

    const answer = await client.untilEnded(turn.assistantMessageId);
    expect(answer.done!.status).to.equal('cancelled');
    const { text } = client.text(turn.assistantMessageId);
    expect(answer.done!.content).to.equal(text);
    expect(text.length).to.be.greaterThan(0);
    const aborted = await stub.waitFor('aborted', (record) => isStreaming(record.body));
    expect(aborted.tokensSent).to.be.lessThan(200);
    const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
    expect(stored.status).to.equal('cancelled');
    expect(stored.content).to.equal(text);
  });

  it('retries a Groq 429 before the first token and produces one answer', async () => {
    stub.enqueueFaults({ kind: 'rate_limit', retryAfterSeconds: 1 });
    const client = await connect(alice, 0);
    const conversationId = await titledConversation(alice);
    const turn = await client.send({ content: 'after a rate limit', conversationId });
    const answer = await client.untilEnded(turn.assistantMessageId);
    expect(answer.done!.status).to.equal('complete');
    const requests = stub.requests.filter((record) => isStreaming(record.body));
    expect(requests.map((record) => record.httpStatus ?? 200)).to.deep.equal([429, 200]);
    const page = await api.request('GET', `/api/v1/conversations/${conversationId}/messages`, {
      token: alice.accessToken,
    });
    expect(page.body.items.filter((item: { role: string }) => item.role === 'assistant')).to.have.length(1);
  });

  it('ends with chat:error (retryable) when Groq stays down', async () => {
    stub.enqueueFaults({ kind: 'server_error' }, { kind: 'server_error' });
    const client = await connect(alice, 0);
    const turn = await client.send({
      content: 'is anyone there?',
      conversationId: await titledConversation(alice),
    });
    const answer = await client.untilEnded(turn.assistantMessageId);
    expect(answer.done).to.equal(undefined);
    expect(answer.error).to.include({ code: 'llm_unavailable', retryable: true });
    const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
    expect(stored.status).to.equal('failed');
  });

  it('ends failed with the partial text and tells the client when the stream breaks after tokens went out', async () => {
    stub.enqueueFaults({ kind: 'cut', afterTokens: 5 });
    stub.configure({ tokensPerSecond: 200 });
    const client = await connect(alice, 0);
    const turn = await client.send({
      content: 'break halfway',
      conversationId: await titledConversation(alice),
    });
    const answer = await client.untilEnded(turn.assistantMessageId);
    expect(answer.error).to.include({ retryable: true });
    const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
    expect(stored.status).to.equal('failed');
    expect(stored.content).to.equal(client.text(turn.assistantMessageId).text);
    // No silent restart: exactly one streaming request for this answer.
    expect(stub.requests.filter((record) => isStreaming(record.body))).to.have.length(1);
  });

  it('keeps a long conversation within the context budget, with a summary of the early turns', async () => {
    stub.configure({ tokensPerSecond: 5_000, answerTokens: 30 });
    const client = await connect(alice, 0);
    const conversationId = await titledConversation(alice);
    const filler = 'Here is some detail about my garden, the roses and the old pear tree by the wall. ';
    let summarized: ChatRequestBody[] = [];
    for (let turnNumber = 0; turnNumber < 14; turnNumber++) {
      const turn = await client.send({ content: `Turn ${turnNumber}. ${filler.repeat(2)}`, conversationId });
      await client.untilEnded(turn.assistantMessageId);
      // Every summary so far: a later one may replace the first before any prompt carried it.
      summarized = stub.requests
        .filter(
          (record) =>
            !isStreaming(record.body) && String(record.body.messages[0]?.content).startsWith('Summarise'),
        )
        .map((record) => record.body);
      const last = stub.requests.filter((record) => isStreaming(record.body)).at(-1)!;
      const promptTokens = last.body.messages.reduce(
        (sum, message) => sum + countTokens(String(message.content)) + MESSAGE_OVERHEAD_TOKENS,
        0,
      );
      expect(promptTokens).to.be.at.most(CONTEXT_TOKENS - ANSWER_TOKENS);
      const system = String(last.body.messages[0]?.content);
      const summaries = summarized.map((body) =>
        defaultTokens(body, stub.options.answerTokens).join('').trim(),
      );
      if (summaries.some((summary) => system.includes(summary))) return;
    }
    expect.fail(`no prompt carried a summary (summaries made: ${summarized.length})`);
  });

  it('survives kill -9 of the worker mid-stream: the message ends failed and the client is told', async () => {
    // Long enough (250 s) that the answer is still streaming whenever the survivor is up, however
    // slowly it starts on a busy machine; the kill ends the stream.
    stub.configure({ tokensPerSecond: 20, answerTokens: 5_000 });
    await worker.stop('SIGTERM');
    const doomed = await ChildService.start('workers/index.ts', workerEnv(), 'workers started');
    try {
      const client = await connect(alice, 0);
      const turn = await client.send({
        content: 'about to crash',
        conversationId: await titledConversation(alice),
      });
      await client.untilTokens(turn.assistantMessageId, 2);
      worker = await ChildService.start('workers/index.ts', workerEnv(), 'workers started');
      expect(await doomed.stop('SIGKILL')).to.deep.equal({ code: null, signal: 'SIGKILL' });

      // The survivor takes the stalled job over once its lock lapses (JOB_LOCK_MS=2000).
      const answer = await client.untilEnded(turn.assistantMessageId);
      expect(answer.error).to.include({ retryable: true });
      const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
      expect(stored.status).to.equal('failed');
      expect(client.text(turn.assistantMessageId).text.startsWith(stored.content)).to.equal(true);
      expect(stored.content.length).to.be.greaterThan(0);
    } finally {
      await doomed.stop('SIGKILL');
    }
  });
});
