import { once } from 'node:events';
import { expect } from 'chai';
import { type GenerationRequest, LlmError } from '../../src/llm/LlmProvider.ts';
import { WebSocketConnection } from '../../src/llm/WebSocketConnection.ts';
import { type FieldMap, WebSocketProvider } from '../../src/llm/WebSocketProvider.ts';
import { WebSocketLlmStub } from '../support/WebSocketLlmStub.ts';

const KEY = 'ws-provider-secret-key-5d21e0';

const request = (content: string, extra: Partial<GenerationRequest> = {}): GenerationRequest => ({
  model: 'house-model',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content },
  ],
  temperature: 0.3,
  maxTokens: 256,
  ...extra,
});

/** Rejects with the error the promise rejects with, failing when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(LlmError);
    return error as LlmError;
  }
  throw new Error('expected a rejection');
}

/**
 * The WebSocket provider against a real `ws` server on a real port speaking the protocol:
 * streamed and whole answers, the request frame, the key (or its absence) on the upgrade,
 * timeouts, a drop mid-answer, a restart of the service, and answers correlated on one socket.
 */
describe('WebSocketProvider against the WebSocket LLM stub', () => {
  let stub: WebSocketLlmStub;
  const opened: WebSocketConnection[] = [];
  const provider = (options: { apiKey?: string; timeoutMs?: number; fieldMap?: FieldMap } = {}) => {
    const connection = new WebSocketConnection({
      url: stub.url,
      apiKey: options.apiKey ?? null,
      connectTimeoutMs: 2_000,
      connectRetries: 0,
    });
    opened.push(connection);
    return {
      connection,
      provider: new WebSocketProvider({
        connection,
        timeoutMs: options.timeoutMs ?? 5_000,
        fieldMap: options.fieldMap,
      }),
    };
  };
  const collect = async (llm: WebSocketProvider, content: string, extra?: Partial<GenerationRequest>) => {
    const tokens: string[] = [];
    const result = await llm.stream(request(content, extra), (delta) => tokens.push(delta));
    return { tokens, result };
  };

  beforeEach(async () => {
    stub = await WebSocketLlmStub.start();
  });
  afterEach(async () => {
    for (const connection of opened.splice(0)) connection.close();
    await stub.close();
  });

  it('streams the deltas as tokens and sends the protocol’s request frame', async () => {
    const { provider: llm } = provider();
    const { tokens, result } = await collect(llm, 'Hello there');
    expect(tokens).to.deep.equal(['Socket ', 'answer ', 'from house-model', '.']);
    expect(result).to.deep.include({ model: 'house-model', finishReason: 'stop', aborted: false });
    expect(result.usage).to.deep.equal({ promptTokens: 0, completionTokens: 4 });
    const sent = stub.requests[0]!;
    expect(sent).to.deep.include({ message: 'Hello there', model: 'house-model' });
    expect(sent.settings).to.deep.equal({ max_tokens: 256, temperature: 0.3, stream: true });
    expect(sent.metadata.requestId).to.be.a('string').and.not.be.empty;
    expect(sent.metadata.messages).to.deep.equal([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello there' },
    ]);
  });

  it('yields a whole answer (final frame only) as one token', async () => {
    stub.mode = 'whole';
    const { tokens, result } = await collect(provider().provider, 'Hi');
    expect(tokens).to.deep.equal(['Socket answer from house-model.']);
    expect(result.finishReason).to.equal('stop');
  });

  it('reads renamed fields through the field map', async () => {
    stub.fields = { response: 'text', delta: 'chunk' };
    const { tokens } = await collect(
      provider({ fieldMap: { response: 'text', delta: 'chunk' } }).provider,
      'Hi',
    );
    expect(tokens.join('')).to.equal('Socket answer from house-model.');
  });

  it('sends no Authorization header without a key, a Bearer header with one', async () => {
    await collect(provider().provider, 'no key');
    await collect(provider({ apiKey: KEY }).provider, 'with key');
    expect(stub.handshakes).to.have.length(2);
    expect(stub.handshakes[0]).not.to.have.property('authorization');
    expect(stub.handshakes[1]!.authorization).to.equal(`Bearer ${KEY}`);
  });

  it('fails retryably when the service is down, without the key in the error', async () => {
    await stub.stop();
    const error = await rejection(collect(provider({ apiKey: KEY }).provider, 'anyone?'));
    expect(error.retryable).to.equal(true);
    expect(error.message).to.equal('The model service could not be reached.');
    expect(`${error.message} ${String(error.cause)}`).not.to.include(KEY);
    await stub.restart();
  });

  it('fails for good when the server refuses the key on the upgrade (401)', async () => {
    stub.refuseUpgrade = 401;
    const error = await rejection(collect(provider({ apiKey: KEY }).provider, 'let me in'));
    expect(error).to.deep.include({ retryable: false, status: 401 });
    expect(error.message).to.equal('The model service refused our credentials.');
    expect(stub.handshakes).to.have.length(0);
  });

  it('fails retryably when no frame comes before the timeout', async () => {
    stub.mode = 'slow';
    const { provider: llm, connection } = provider({ timeoutMs: 1_000 });
    const error = await rejection(collect(llm, 'slowly'));
    expect(error.retryable).to.equal(true);
    expect(error.message).to.equal('The model service did not answer in time.');
    expect(connection.pendingCount).to.equal(0);
  });

  it('fails after the deltas when the connection drops mid-answer, keeping what was streamed', async () => {
    stub.mode = 'drop-after-deltas';
    const tokens: string[] = [];
    const error = await rejection(provider().provider.stream(request('drop'), (delta) => tokens.push(delta)));
    expect(tokens).to.deep.equal(['Socket ', 'answer ']);
    expect(error.message).to.equal('The model service closed the connection mid-answer.');
  });

  it('reconnects on the next request after the service restarted', async () => {
    const { provider: llm } = provider();
    await collect(llm, 'first');
    await stub.stop();
    await rejection(collect(llm, 'while down'));
    await stub.restart();
    const { tokens } = await collect(llm, 'after restart');
    expect(tokens.join('')).to.equal('Socket answer from house-model.');
    expect(stub.handshakes).to.have.length(2);
  });

  it('correlates concurrent answers on one connection by requestId', async () => {
    stub.tokensFor = (sent) => [`${sent.message}-a `, `${sent.message}-b`];
    // All four held, then answered last first, their frames interleaved on the one socket.
    stub.batch = 4;
    const { provider: llm } = provider();
    const answers = await Promise.all(
      ['one', 'two', 'three', 'four'].map((word) => collect(llm, word, { model: `m-${word}` })),
    );
    expect(answers.map((answer) => answer.tokens.join(''))).to.deep.equal([
      'one-a one-b',
      'two-a two-b',
      'three-a three-b',
      'four-a four-b',
    ]);
    expect(answers.map((answer) => answer.result.model)).to.deep.equal([
      'm-one',
      'm-two',
      'm-three',
      'm-four',
    ]);
    expect(stub.handshakes).to.have.length(1);
    expect(new Set(stub.requests.map((sent) => sent.metadata.requestId)).size).to.equal(4);
  });

  it('an abort ends the request as aborted, and later frames are ignored', async () => {
    stub.mode = 'slow';
    const { provider: llm, connection } = provider();
    const controller = new AbortController();
    const tokens: string[] = [];
    const pending = llm.stream(request('stop me', { signal: controller.signal }), (delta) =>
      tokens.push(delta),
    );
    await once(stub, 'request');
    controller.abort();
    const result = await pending;
    expect(result.aborted).to.equal(true);
    expect(tokens).to.deep.equal([]);
    expect(connection.pendingCount).to.equal(0);
  });

  it('probes with a ping, and fails the probe when the service is down', async () => {
    const { provider: llm } = provider();
    await llm.probe();
    await stub.stop();
    const { provider: other } = provider();
    expect((await rejection(other.probe())).retryable).to.equal(true);
    await stub.restart();
  });
});
