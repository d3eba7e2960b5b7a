import { expect } from 'chai';
import type { Tool, ToolContext, ToolSource } from '../../src/tools/Tool.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { ChildService } from '../support/ChildService.ts';
import { type ChatStack, startChatStack } from '../support/chatStack.ts';
import { type ChatMessage, GroqStub, type RecordedRequest } from '../support/GroqStub.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import {
  createTestDatabase,
  TEST_EMBEDDING_ENV,
  TEST_JWT_SECRET,
  TEST_REDIS_URL,
  uniqueQueuePrefix,
} from '../support/services.ts';

/** One call of the test's slow tool: it runs until the test releases it (or its signal aborts). */
interface GatedCall {
  args: unknown;
  signal: AbortSignal;
  release: (text: string) => void;
  aborted: Promise<void>;
}

/**
 * A tool source with one tool, `slow_lookup`, whose calls wait for the test: parallelism and
 * cancellation are proved by events (both running before either is released; the abort seen).
 */
class GatedToolSource implements ToolSource {
  readonly calls: GatedCall[] = [];
  private readonly waiting: Array<() => void> = [];

  async tools(): Promise<Tool[]> {
    return [
      {
        name: 'slow_lookup',
        description: 'Looks something up, slowly.',
        parameters: { type: 'object', properties: { key: { type: 'string' } }, required: ['key'] },
        execute: (args: unknown, context: ToolContext) =>
          new Promise((resolve) => {
            const aborted = new Promise<void>((done) =>
              context.signal.addEventListener('abort', () => done(), { once: true }),
            );
            this.calls.push({
              args,
              signal: context.signal,
              aborted,
              release: (text) => resolve({ content: text, summary: `looked up: ${text}` }),
            });
            for (const wake of this.waiting.splice(0)) wake();
          }),
      },
    ];
  }

  /** Resolves once `count` calls are running (none of them released by this). */
  untilCalls(count: number): Promise<GatedCall[]> {
    if (this.calls.length >= count) return Promise.resolve(this.calls.slice(0, count));
    return new Promise((resolve) => {
      const check = () => {
        if (this.calls.length >= count) resolve(this.calls.slice(0, count));
        else this.waiting.push(check);
      };
      this.waiting.push(check);
    });
  }

  reset() {
    this.calls.length = 0;
  }
}

const toolMessages = (record: RecordedRequest) =>
  record.body.messages.filter((message: ChatMessage) => message.role === 'tool');
const offeredTools = (record: RecordedRequest) => (record.body.tools ?? []).map((tool) => tool.function.name);

describe('tools: the chat worker calls tools in a loop, live on the relay and stored', function () {
  this.timeout(60_000);
  let stack: ChatStack;
  let stub: GroqStub;
  let edge: TestEdge;
  let secondEdge: TestEdge;
  let api: ApiClient;
  let alice: Session;
  let bob: Session;
  const gated = new GatedToolSource();
  const clients: ChatClient[] = [];

  const connect = async (session: Session, url = edge.url) => {
    const client = await ChatClient.connect(url, session.accessToken);
    clients.push(client);
    return client;
  };
  const titledConversation = async (session: Session, body: Record<string, unknown> = {}) => {
    const response = await api.request('POST', '/api/v1/conversations', {
      token: session.accessToken,
      body: { title: 'fixed', ...body },
    });
    expect(response.status).to.equal(201);
    return response.body as { id: string; tools: boolean };
  };
  const storedMessage = async (session: Session, conversationId: string, messageId: string) => {
    const page = await api.request('GET', `/api/v1/conversations/${conversationId}/messages?limit=100`, {
      token: session.accessToken,
    });
    return page.body.items.find((item: { id: string }) => item.id === messageId);
  };
  const upload = async (session: Session, client: ChatClient, filename: string, text: string) => {
    const response = await api.upload(session.accessToken, filename, text);
    expect(response.status).to.equal(202);
    const events = await client.untilDocumentSettles(response.body.id);
    expect(events.at(-1)?.status).to.equal('ready');
    return response.body.id as string;
  };

  before(async () => {
    stack = await startChatStack(
      'tools',
      { ttftMs: 5, tokensPerSecond: 2_000, answerTokens: 10 },
      { RATE_LIMIT_MESSAGES: '10000/1m', STREAM_FLUSH_CHARS: '4' },
      { toolSources: [gated] },
    );
    ({ stub, edge } = stack);
    const { config } = edge.runtime;
    secondEdge = await startInProcessEdge({
      DATABASE_URL: config.database.url!,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: config.redis.queuePrefix,
      GROQ_API_KEY: 'test-key',
      GROQ_BASE_URL: stub.baseURL,
    });
    api = new ApiClient(edge.url);
    [alice, bob] = [await api.signup('alice'), await api.signup('bob')];
  });
  after(async () => {
    for (const client of clients) client.close();
    await secondEdge?.stop();
    await stack?.stop();
  });
  beforeEach(() => {
    stub.reset();
    gated.reset();
  });

  it("search_documents finds only the asking user's passages, and the answer cites them", async () => {
    const aliceTab = await connect(alice);
    const bobTab = await connect(bob);
    const aliceDoc = await upload(
      alice,
      aliceTab,
      'heron.txt',
      'Project Heron launch code is amber falcon. The launch happens at dawn.',
    );
    await upload(bob, bobTab, 'heron-bob.txt', 'Project Heron launch code is crimson otter, says Bob.');
    stub.enqueueTurns(
      { toolCalls: [{ name: 'search_documents', arguments: { query: 'Project Heron launch code' } }] },
      { text: ['The code', ' is amber', ' falcon [1].'] },
    );
    const conversation = await titledConversation(alice);
    expect(conversation.tools).to.equal(true);
    const turn = await aliceTab.send({
      content: 'What is the Heron launch code?',
      conversationId: conversation.id,
    });
    const answer = await aliceTab.untilEnded(turn.assistantMessageId);

    const [first, second] = await stub.waitForRequests(2);
    expect(offeredTools(first!)).to.include.members([
      'search_documents',
      'read_document_page',
      'search_history',
      'current_time',
      'slow_lookup',
    ]);
    const [result] = toolMessages(second!);
    expect(String(result!.content)).to.include('amber falcon');
    expect(String(result!.content)).not.to.include('crimson otter');
    expect(result!.tool_call_id).to.be.a('string');
    const assistant = second!.body.messages.find(
      (message) => message.role === 'assistant' && message.tool_calls,
    );
    expect((assistant!.tool_calls as Array<{ id: string }>)[0]!.id).to.equal(result!.tool_call_id);

    expect(answer.done!.content).to.equal('The code is amber falcon [1].');
    expect(answer.done!.citations.map((citation) => citation.documentId)).to.deep.equal([aliceDoc]);
    expect(aliceTab.timeline(turn.assistantMessageId).slice(0, 2)).to.deep.equal([
      'tool:search_documents:running',
      'tool:search_documents:complete',
    ]);
    expect(aliceTab.text(turn.assistantMessageId).gapFree).to.equal(true);
    expect([...bobTab.answers.keys()]).not.to.include(turn.assistantMessageId);

    const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
    expect(stored.toolCalls).to.have.length(1);
    expect(stored.toolCalls[0]).to.include({ name: 'search_documents', status: 'complete' });
    expect(JSON.parse(stored.toolCalls[0].arguments)).to.deep.equal({ query: 'Project Heron launch code' });
    expect(stored.toolCalls[0].summary).to.equal('1 passage from 1 document');
    expect(stored.toolCalls[0].durationMs).to.be.a('number');
    expect(stored.citations.map((citation: { documentId: string }) => citation.documentId)).to.deep.equal([
      aliceDoc,
    ]);
  });

  it("read_document_page reads a section of the user's own document, and another user's not at all", async () => {
    const aliceTab = await connect(alice);
    const bobTab = await connect(bob);
    const mine = await upload(
      alice,
      aliceTab,
      'page.md',
      '# Notes\n\nThe heron nests by the river in spring.',
    );
    const theirs = await upload(bob, bobTab, 'bob-page.md', '# Bob\n\nBob keeps his otter notes here.');
    stub.enqueueTurns(
      {
        toolCalls: [
          { name: 'read_document_page', arguments: { documentId: mine, page: 1 } },
          { name: 'read_document_page', arguments: { documentId: theirs, page: 1 } },
          { name: 'read_document_page', arguments: { documentId: mine, page: 9 } },
        ],
      },
      { text: ['Read.'] },
    );
    const turn = await aliceTab.send({
      content: 'read my notes',
      conversationId: (await titledConversation(alice)).id,
    });
    await aliceTab.untilEnded(turn.assistantMessageId);
    const results = toolMessages((await stub.waitForRequests(2))[1]!).map((message) =>
      String(message.content),
    );
    expect(results[0]).to.match(/^page\.md, section 1 of 1:\n/);
    expect(results[0]).to.include('The heron nests by the river');
    expect(results[1]).to.equal('error: invalid arguments: no such document (or it is not ready yet)');
    expect(results.join('\n')).not.to.include('otter');
    expect(results[2]).to.equal('error: invalid arguments: page.md has no section 9 (it has 1)');
  });

  it('runs two calls of one step in parallel: both are running before either is released', async () => {
    stub.enqueueTurns(
      {
        toolCalls: [
          { name: 'slow_lookup', arguments: { key: 'a' } },
          { name: 'slow_lookup', arguments: { key: 'b' } },
        ],
      },
      { text: ['Both found.'] },
    );
    const tab = await connect(alice);
    const turn = await tab.send({
      content: 'look up a and b',
      conversationId: (await titledConversation(alice)).id,
    });
    // Sequential calls would never get here: the first call waits for a release that comes later.
    const calls = await gated.untilCalls(2);
    await tab.until(
      () =>
        [...tab.answer(turn.assistantMessageId).tools.values()].filter((event) => event.status === 'running')
          .length === 2,
    );
    expect(calls.map((call) => call.args)).to.deep.equal([{ key: 'a' }, { key: 'b' }]);
    calls[1]!.release('B');
    calls[0]!.release('A');
    const answer = await tab.untilEnded(turn.assistantMessageId);
    expect(answer.done!.content).to.equal('Both found.');
    const second = (await stub.waitForRequests(2))[1]!;
    // Results go back in the model's order, whatever order they finished in.
    expect(toolMessages(second).map((message) => message.content)).to.deep.equal(['A', 'B']);
    const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
    expect(
      stored.toolCalls.map((call: { status: string; summary: string }) => [call.status, call.summary]),
    ).to.deep.equal([
      ['complete', 'looked up: A'],
      ['complete', 'looked up: B'],
    ]);
  });

  it('gives invalid arguments, bad JSON and unknown tools back to the model, which recovers', async () => {
    stub.enqueueTurns(
      {
        toolCalls: [
          { name: 'current_time', arguments: { timeZone: 'Mars/Olympus_Mons' } },
          { name: 'current_time', arguments: '{"timeZone": ' },
          { name: 'no_such_tool', arguments: {} },
        ],
      },
      { toolCalls: [{ name: 'current_time', arguments: { timeZone: 'Europe/Lisbon' } }] },
      { text: ['It is', ' morning', ' in Lisbon.'] },
    );
    const tab = await connect(alice);
    const turn = await tab.send({
      content: 'what time is it?',
      conversationId: (await titledConversation(alice)).id,
    });
    const answer = await tab.untilEnded(turn.assistantMessageId);
    expect(answer.done!.content).to.equal('It is morning in Lisbon.');
    const requests = await stub.waitForRequests(3);
    const errors = toolMessages(requests[1]!).map((message) => String(message.content));
    expect(errors[0]).to.match(/^error: invalid arguments: /);
    expect(errors[0]).to.include('is not an IANA time zone').and.include('at timeZone');
    expect(errors[1]).to.equal('error: the arguments are not valid JSON');
    expect(errors[2]).to.match(/^error: unknown tool "no_such_tool"/);
    const lisbon = JSON.parse(String(toolMessages(requests[2]!).at(-1)!.content));
    expect(lisbon.timeZone).to.equal('Europe/Lisbon');
    const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
    expect(stored.status).to.equal('complete');
    expect(stored.toolCalls.map((call: { status: string }) => call.status)).to.deep.equal([
      'error',
      'error',
      'error',
      'complete',
    ]);
  });

  it("answers without tools when Groq refuses the model's tool call (tool_use_failed)", async () => {
    stub.enqueueFaults({ kind: 'tool_use_failed' });
    stub.enqueueTurns({ text: ['Answered', ' anyway.'] });
    const tab = await connect(alice);
    const turn = await tab.send({
      content: 'search something',
      conversationId: (await titledConversation(alice)).id,
    });
    const answer = await tab.untilEnded(turn.assistantMessageId);
    expect(answer.done!.status).to.equal('complete');
    expect(answer.done!.content).to.equal('Answered anyway.');
    const [refused, retried] = await stub.waitForRequests(2);
    expect(refused!.httpStatus).to.equal(400);
    expect(offeredTools(refused!)).to.include('search_documents');
    expect(retried!.body.tools).to.equal(undefined);
  });

  it('ends at the step limit with a final call that offers no tools', async () => {
    // A model that always wants another tool while it may.
    stub.configure({
      turn: (body) =>
        body.tools?.length
          ? { toolCalls: [{ name: 'current_time', arguments: {} }] }
          : { text: ['Enough', ' tools.'] },
    });
    const tab = await connect(alice);
    const turn = await tab.send({
      content: 'loop forever',
      conversationId: (await titledConversation(alice)).id,
    });
    const answer = await tab.untilEnded(turn.assistantMessageId);
    expect(answer.done!.content).to.equal('Enough tools.');
    const requests = stub.requests.filter((record) => record.body.stream === true);
    expect(requests).to.have.length(5); // maxToolSteps (4) rounds, then the final call
    expect(requests.slice(0, 4).every((record) => offeredTools(record).length > 0)).to.equal(true);
    expect(requests[4]!.body.tools).to.equal(undefined);
    expect(toolMessages(requests[4]!)).to.have.length(4);
    const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
    expect(stored.toolCalls).to.have.length(4);
  });

  it('cancel during a slow tool: the tool sees the abort, the answer ends cancelled with its text', async () => {
    stub.enqueueTurns({
      text: ['Let me', ' check.'],
      toolCalls: [{ name: 'slow_lookup', arguments: { key: 'x' } }],
    });
    const tab = await connect(alice);
    const turn = await tab.send({ content: 'check x', conversationId: (await titledConversation(alice)).id });
    const [call] = await gated.untilCalls(1);
    await tab.untilTool(turn.assistantMessageId, (event) => event.status === 'running');
    const cancel = await api.request('POST', `/api/v1/messages/${turn.assistantMessageId}/cancel`, {
      token: alice.accessToken,
    });
    expect(cancel.status).to.equal(202);
    await call!.aborted;
    expect(call!.signal.aborted).to.equal(true);
    const answer = await tab.untilEnded(turn.assistantMessageId);
    expect(answer.done!.status).to.equal('cancelled');
    expect(answer.done!.content).to.equal('Let me check.');
    const stored = await storedMessage(alice, turn.conversationId, turn.assistantMessageId);
    expect(stored.status).to.equal('cancelled');
    expect(stored.content).to.equal('Let me check.');
    expect(stored.toolCalls[0]).to.include({ name: 'slow_lookup', status: 'error' });
    expect(stub.requests.filter((record) => record.body.stream === true)).to.have.length(1);
  });

  it('replays tool events and tokens in order, exactly once, on resume at another edge', async () => {
    stub.enqueueTurns(
      { text: ['Looking', ' it up.'], toolCalls: [{ name: 'slow_lookup', arguments: { key: 'k' } }] },
      { text: ['Found', ' it:', ' 42.'] },
    );
    const before = await connect(alice);
    const turn = await before.send({
      content: 'look up k',
      conversationId: (await titledConversation(alice)).id,
    });
    const [call] = await gated.untilCalls(1);
    await before.untilTool(turn.assistantMessageId, (event) => event.status === 'running');
    before.close();
    const seen = before.text(turn.assistantMessageId);

    const after = await connect(alice, secondEdge.url);
    const carried = after.answer(turn.assistantMessageId);
    for (const [seq, delta] of before.answer(turn.assistantMessageId).tokens) carried.tokens.set(seq, delta);
    for (const [seq, event] of before.answer(turn.assistantMessageId).tools) carried.tools.set(seq, event);
    const [error] = await after.emit('chat:resume', {
      messageId: turn.assistantMessageId,
      afterSeq: seen.lastSeq,
    });
    expect(error).to.equal(null);
    call!.release('42');
    const answer = await after.untilEnded(turn.assistantMessageId);

    const final = after.text(turn.assistantMessageId);
    expect(final.gapFree).to.equal(true);
    expect(final.text).to.equal(answer.done!.content);
    expect(answer.done!.content).to.equal('Looking it up.\n\nFound it: 42.');
    const timeline = after.timeline(turn.assistantMessageId);
    const running = timeline.indexOf('tool:slow_lookup:running');
    const complete = timeline.indexOf('tool:slow_lookup:complete');
    expect(timeline.filter((entry) => entry.startsWith('tool:'))).to.deep.equal([
      'tool:slow_lookup:running',
      'tool:slow_lookup:complete',
    ]);
    expect(timeline.slice(0, running).join('')).to.equal('Looking it up.');
    expect(timeline.slice(complete + 1).join('')).to.equal('\n\nFound it: 42.');

    // The SSE stream replays the same sequence from the log.
    const sse = await fetch(
      `${secondEdge.url}/api/v1/messages/${turn.assistantMessageId}/stream?afterSeq=0`,
      {
        headers: { authorization: `Bearer ${alice.accessToken}` },
      },
    );
    const events = [...(await sse.text()).matchAll(/event: (\S+)\ndata: (.*)\n/g)].map(
      (match) => [match[1], JSON.parse(match[2]!)] as const,
    );
    const seqs = events.flatMap(([, data]) => (typeof data.seq === 'number' ? [data.seq] : []));
    expect(seqs).to.deep.equal(seqs.map((_, index) => index + 1));
    expect(events.filter(([name]) => name === 'chat:tool').map(([, data]) => data.status)).to.deep.equal([
      'running',
      'complete',
    ]);
    expect(events.at(-1)![0]).to.equal('chat:done');
  });

  it('offers no tools when the conversation turns them off', async () => {
    const conversation = await titledConversation(alice, { tools: false });
    expect(conversation.tools).to.equal(false);
    const tab = await connect(alice);
    const turn = await tab.send({ content: 'plain please', conversationId: conversation.id });
    await tab.untilEnded(turn.assistantMessageId);
    const [request] = await stub.waitForRequests(1);
    expect(request!.body.tools).to.equal(undefined);
    const patched = await api.request('PATCH', `/api/v1/conversations/${conversation.id}`, {
      token: alice.accessToken,
      body: { tools: true },
    });
    expect(patched.body.tools).to.equal(true);
    const created = await tab.send({ content: 'new one without tools', tools: false });
    const fetched = await api.request('GET', `/api/v1/conversations/${created.conversationId}`, {
      token: alice.accessToken,
    });
    expect(fetched.body.tools).to.equal(false);
  });
});

describe('tools: kill -9 of the worker mid-loop', function () {
  this.timeout(90_000);
  let stub: GroqStub;
  let env: Record<string, string>;
  let edge: ChildService;
  let url: string;
  let worker: ChildService | undefined;

  const workerEnv = () => ({
    ...env,
    ...TEST_EMBEDDING_ENV,
    WORKER_QUEUES: 'chat,maintenance',
    GROQ_API_KEY: 'test-key',
    GROQ_BASE_URL: stub.baseURL,
    GROQ_MAX_RETRIES: '0',
    JOB_LOCK_MS: '2000',
  });

  before(async () => {
    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 2_000 });
    env = {
      DATABASE_URL: await createTestDatabase('tools_kill'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('tools_kill'),
      JWT_SECRET: TEST_JWT_SECRET,
    };
    worker = await ChildService.start('workers/index.ts', workerEnv(), 'workers started');
    ({ edge, url } = await ChildService.startEdge({ ...env, ...TEST_EMBEDDING_ENV }));
  });
  after(async () => {
    await Promise.all([edge?.stop(), worker?.stop()]);
    await stub?.close();
  });

  it('ends the answer failed after tool events went out, and never runs the loop again', async () => {
    const api = new ApiClient(url);
    const alice = await api.signup('alice');
    const tab = await ChatClient.connect(url, alice.accessToken);
    const doomed = worker!;
    try {
      stub.enqueueTurns({
        text: ['Checking', ' the time.'],
        toolCalls: [{ name: 'current_time', arguments: {} }],
      });
      const conversation = await api.request('POST', '/api/v1/conversations', {
        token: alice.accessToken,
        body: { title: 'fixed' },
      });
      const turn = await tab.send({ content: 'what time is it?', conversationId: conversation.body.id });
      // The first call is answering; the next one (after the tool ran) will never answer.
      await stub.waitFor('first-token');
      stub.enqueueFaults({ kind: 'hang' });
      await stub.waitForRequests(2);
      await tab.untilTool(turn.assistantMessageId, (event) => event.status === 'complete');
      worker = await ChildService.start('workers/index.ts', workerEnv(), 'workers started');
      expect(await doomed.stop('SIGKILL')).to.deep.equal({ code: null, signal: 'SIGKILL' });

      // The survivor takes the stalled job over once its lock lapses (JOB_LOCK_MS=2000).
      const answer = await tab.untilEnded(turn.assistantMessageId);
      expect(answer.error).to.include({ retryable: true });
      const page = await api.request('GET', `/api/v1/conversations/${turn.conversationId}/messages`, {
        token: alice.accessToken,
      });
      const stored = page.body.items.find((item: { id: string }) => item.id === turn.assistantMessageId);
      expect(stored.status).to.equal('failed');
      expect(stored.content).to.equal('Checking the time.');
      expect(
        stored.toolCalls.map((call: { name: string; status: string }) => [call.name, call.status]),
      ).to.deep.equal([['current_time', 'complete']]);
      // No second run of the loop: the model was asked twice, both by the killed worker.
      expect(stub.requests.filter((record) => record.body.stream === true)).to.have.length(2);
    } finally {
      tab.close();
      await doomed.stop('SIGKILL');
    }
  });
});
