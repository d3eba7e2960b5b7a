import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import Groq, { APIError, AuthenticationError } from 'groq-sdk';
import type { ChatCompletionChunk } from 'groq-sdk/resources/chat/completions';
import { defaultTokens, GroqStub } from '../support/GroqStub.ts';

const MODEL = 'llama-3.1-8b-instant';
const MESSAGES = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Say hello in many scripts' },
];
/** Multi-byte on purpose: 2-, 3- and 4-byte UTF-8 sequences, and an emoji with a modifier. */
const ANSWER = ['Hé', 'llo', ' wörld', ' 漢字', ' 🙂', ' 👍🏽', ' ß', '!'];

describe('GroqStub through the real groq-sdk', () => {
  let stub: GroqStub;

  // Fast defaults keep the suite quick; the pacing test sets its own rates.
  before(async () => {
    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 2000 });
  });
  afterEach(() => stub.reset());
  after(async () => {
    await stub?.close();
  });

  function client(options: { maxRetries?: number; apiKey?: string } = {}): Groq {
    return new Groq({ apiKey: 'test', baseURL: stub.baseURL, maxRetries: 0, ...options });
  }

  async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return chunks;
  }

  const contentOf = (chunks: ChatCompletionChunk[]) =>
    chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

  it('streams the answer as chat.completion.chunk frames with usage in the last chunk', async () => {
    stub.configure({ answer: () => ANSWER });
    const stream = await client().chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true });
    const chunks = await collect(stream);

    expect(Buffer.from(contentOf(chunks))).to.deep.equal(Buffer.from(ANSWER.join('')));
    expect(chunks[0]?.choices[0]?.delta).to.deep.equal({ role: 'assistant', content: '' });
    expect(chunks).to.have.length(ANSWER.length + 2); // role chunk, one per token, final chunk
    for (const chunk of chunks) {
      expect(chunk).to.include({ object: 'chat.completion.chunk', model: MODEL, id: chunks[0]?.id });
    }
    const last = chunks.at(-1)!;
    expect(last.choices[0]?.delta).to.deep.equal({});
    expect(last.choices[0]?.finish_reason).to.equal('stop');
    expect(last.x_groq?.usage).to.include({ completion_tokens: ANSWER.length });
    expect(last.x_groq?.usage?.prompt_tokens).to.be.greaterThan(0);
    expect(last.x_groq?.usage?.total_tokens).to.equal(
      last.x_groq!.usage!.prompt_tokens + last.x_groq!.usage!.completion_tokens,
    );

    const [record] = await stub.waitForRequests(1);
    expect(record).to.include({ status: 'completed', tokensSent: ANSWER.length, httpStatus: 200 });
    expect(record?.body).to.deep.include({ model: MODEL, messages: MESSAGES, stream: true });
    expect(record?.headers.authorization).to.equal('Bearer test');
  });

  it('streams deterministic multi-byte default tokens, answerTokens of them', async () => {
    stub.configure({ answerTokens: 12 });
    const body = { model: MODEL, messages: MESSAGES };
    const expected = defaultTokens(body, 12);
    expect(expected).to.have.length(12);
    expect(expected.every((token) => token.startsWith(' '))).to.equal(true);
    expect(Buffer.byteLength(expected.join(''))).to.be.greaterThan(expected.join('').length);

    const chunks = await collect(await client().chat.completions.create({ ...body, stream: true }));
    expect(contentOf(chunks)).to.equal(expected.join(''));
  });

  it('stops at max_tokens with finish_reason length', async () => {
    stub.configure({ answer: () => ANSWER });
    const stream = await client().chat.completions.create({
      model: MODEL,
      messages: MESSAGES,
      stream: true,
      max_tokens: 3,
    });
    const chunks = await collect(stream);

    expect(contentOf(chunks)).to.equal(ANSWER.slice(0, 3).join(''));
    const last = chunks.at(-1)!;
    expect(last.choices[0]?.finish_reason).to.equal('length');
    expect(last.x_groq?.usage?.completion_tokens).to.equal(3);
  });

  it('answers a non-streaming request with a chat.completion and usage', async () => {
    stub.configure({ answer: () => ANSWER });
    const completion = await client().chat.completions.create({ model: MODEL, messages: MESSAGES });

    expect(completion.object).to.equal('chat.completion');
    expect(completion.choices[0]?.message).to.include({ role: 'assistant', content: ANSWER.join('') });
    expect(completion.choices[0]?.finish_reason).to.equal('stop');
    expect(completion.usage).to.include({ completion_tokens: ANSWER.length });
    expect(completion.usage?.total_tokens).to.equal(completion.usage!.prompt_tokens + ANSWER.length);
  });

  it('answers a rate_limit fault with 429 and retry-after, which the SDK retries by itself', async () => {
    stub.enqueueFaults({ kind: 'rate_limit', retryAfterSeconds: 1 });
    const completion = await client({ maxRetries: 2 }).chat.completions.create({
      model: MODEL,
      messages: MESSAGES,
    });

    expect(completion.choices[0]?.message.content).to.be.a('string').and.not.empty;
    expect(stub.requests).to.have.length(2);
    const [limited, retried] = stub.requests;
    expect(limited).to.include({ httpStatus: 429, status: 'failed' });
    expect(limited?.fault).to.deep.equal({ kind: 'rate_limit', retryAfterSeconds: 1 });
    expect(retried).to.include({ httpStatus: 200, status: 'completed' });
    // retry-after: 1 was obeyed (the SDK's own backoff would be ~0.5 s).
    expect(retried!.receivedAt - limited!.receivedAt).to.be.at.least(950);
  });

  it('answers a server_error fault with 500, an APIError when the SDK may not retry', async () => {
    stub.enqueueFaults({ kind: 'server_error' });
    const error = await client()
      .chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    expect(error).to.be.instanceOf(APIError);
    expect(error).to.be.instanceOf(Groq.InternalServerError);
    expect((error as APIError).status).to.equal(500);
    // APIError.error is the whole parsed body, Groq's `{ error: { message, type, code } }`.
    expect((error as APIError).error).to.have.nested.property('error.type', 'internal_server_error');
    expect(stub.requests).to.have.length(1);
  });

  it('rejects a missing or rejected key with 401', async () => {
    stub.configure({ rejectKey: 'revoked' });
    const error = await client({ apiKey: 'revoked' })
      .chat.completions.create({ model: MODEL, messages: MESSAGES })
      .catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(AuthenticationError);

    // groq-sdk refuses to send without a key, so check the missing header with plain fetch.
    const response = await fetch(`${stub.baseURL}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: MESSAGES }),
    });
    expect(response.status).to.equal(401);
    expect(await response.json()).to.have.nested.property('error.code', 'invalid_api_key');
  });

  it('cuts the stream after afterTokens content tokens', async () => {
    stub.configure({ answer: () => ANSWER });
    stub.enqueueFaults({ kind: 'cut', afterTokens: 3 });
    const stream = await client().chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true });

    const contents: string[] = [];
    let error: unknown;
    try {
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta.content;
        if (content) contents.push(content);
      }
    } catch (caught) {
      error = caught;
    }

    // What groq-sdk really does: the iteration throws undici's `TypeError: terminated` (the chunked
    // body ended without its terminator), after exactly the tokens that were sent.
    expect(contents).to.deep.equal(ANSWER.slice(0, 3));
    expect(error).to.be.instanceOf(TypeError);
    expect((error as Error).message).to.equal('terminated');
    const [record] = stub.requests;
    expect(record).to.include({ status: 'failed', tokensSent: 3 });
  });

  it('records a request as aborted when the client aborts mid-stream', async () => {
    stub.configure({ tokensPerSecond: 20 }); // slow enough that the stream is surely still open
    const controller = new AbortController();
    const stream = await client().chat.completions.create(
      { model: MODEL, messages: MESSAGES, stream: true },
      { signal: controller.signal },
    );

    let chunks = 0;
    for await (const _chunk of stream) {
      chunks++;
      controller.abort();
    }

    // The SDK ends the iteration quietly on abort, after yielding what it had already read
    // (the role chunk and the first token usually arrive in one read).
    const aborted = await stub.waitFor('aborted');
    expect(chunks).to.be.within(1, 3);
    expect(aborted.id).to.equal(stub.requests[0]?.id);
    expect(aborted.tokensSent).to.be.lessThan(30);
  });

  it('hangs on a hang fault until the client gives up', async () => {
    stub.enqueueFaults({ kind: 'hang' });
    const controller = new AbortController();
    const pending = client()
      .chat.completions.create(
        { model: MODEL, messages: MESSAGES, stream: true },
        { signal: controller.signal },
      )
      .catch((caught: unknown) => caught);

    const [hanging] = await stub.waitForRequests(1);
    expect(hanging).to.include({ status: 'streaming', tokensSent: 0 });
    controller.abort();

    expect(await pending).to.be.instanceOf(Groq.APIUserAbortError);
    expect(await stub.waitFor('aborted')).to.equal(hanging);
  });

  it('paces tokens: ttft first, then tokensPerSecond', async () => {
    stub.configure({ ttftMs: 50, tokensPerSecond: 100, answerTokens: 20 });
    const startedAt = performance.now();
    const stream = await client().chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true });

    let firstTokenAt: number | undefined;
    let tokens = 0;
    for await (const chunk of stream) {
      if (!chunk.choices[0]?.delta.content) continue;
      firstTokenAt ??= performance.now();
      tokens++;
    }
    const endedAt = performance.now();

    // Lower bounds only: a shared machine can always be slower.
    expect(tokens).to.equal(20);
    expect(firstTokenAt! - startedAt).to.be.at.least(50);
    expect(endedAt - startedAt).to.be.at.least(50 + 19 * 10 - 2);
  });
});
