import { expect } from 'chai';
import { FallbackChain } from '../../src/llm/FallbackChain.ts';
import { LlmError } from '../../src/llm/LlmProvider.ts';
import { OpenAiCompatibleProvider } from '../../src/llm/OpenAiCompatibleProvider.ts';
import { OpenAiStub } from '../support/OpenAiStub.ts';

const KEY = 'sk-stub-secret-0123456789';
const MESSAGES = [{ role: 'user' as const, content: 'Hello?' }];

/** The OpenAI-compatible provider and the fallback chain, driving the real `openai` client against the stub. */
describe('OpenAI-compatible provider and fallback chain', function () {
  this.timeout(15_000);
  let stub: OpenAiStub;
  const provider = (options: { maxRetries?: number; apiKey?: string | null } = {}) =>
    new OpenAiCompatibleProvider({
      baseURL: stub.baseURL,
      apiKey: options.apiKey === undefined ? KEY : options.apiKey,
      timeoutMs: 5_000,
      maxRetries: options.maxRetries ?? 0,
    });
  const request = (model: string) => ({ model, messages: MESSAGES, temperature: 0, maxTokens: 64 });

  before(async () => {
    stub = await OpenAiStub.start();
  });
  after(() => stub.close());
  beforeEach(() => stub.reset());

  it('streams the answer in order, with usage from the include_usage chunk, sending the key as a bearer', async () => {
    const tokens: string[] = [];
    const result = await provider().stream(request('m1'), (delta) => tokens.push(delta));
    expect(tokens.join('')).to.equal('Answer from m1.');
    expect(result).to.deep.include({ model: 'm1', finishReason: 'stop', aborted: false, toolCalls: [] });
    expect(result.usage).to.deep.equal({ promptTokens: 10, completionTokens: 4 });
    expect(stub.requests[0]!.authorization).to.equal(`Bearer ${KEY}`);
    expect(stub.requests[0]!.body).to.deep.include({
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 64,
    });
  });

  it('assembles streamed tool-call fragments and sends the tools in the wire format', async () => {
    stub.answer = () => ({
      toolCalls: [
        { id: 'call_a', name: 'current_time', arguments: '{"timeZone":"Europe/Paris"}' },
        { id: 'call_b', name: 'search_documents', arguments: '{"query":"budget"}' },
      ],
    });
    const tools = [{ name: 'current_time', description: 'Now', parameters: { type: 'object' } }];
    const result = await provider().stream({ ...request('m1'), tools }, () => undefined);
    stub.answer = (body) => ({ tokens: ['Answer ', 'from ', body.model, '.'] });
    expect(result.finishReason).to.equal('tool_calls');
    expect(result.toolCalls).to.deep.equal([
      { id: 'call_a', name: 'current_time', arguments: '{"timeZone":"Europe/Paris"}' },
      { id: 'call_b', name: 'search_documents', arguments: '{"query":"budget"}' },
    ]);
    expect(stub.requests[0]!.body.tools).to.deep.equal([
      {
        type: 'function',
        function: { name: 'current_time', description: 'Now', parameters: { type: 'object' } },
      },
    ]);
  });

  it('maps failures: 429 and 500 retryable, 401 and 400 final, an unreachable server retryable', async () => {
    const failure = async (status: number) => {
      stub.script('m1', { kind: 'status', status });
      return provider()
        .stream(request('m1'), () => undefined)
        .then(
          () => null,
          (error: unknown) => error,
        );
    };
    for (const [status, retryable] of [
      [429, true],
      [500, true],
      [401, false],
      [400, false],
    ] as const) {
      const error = await failure(status);
      expect(error, `status ${status}`).to.be.instanceOf(LlmError);
      expect(error).to.include({ retryable, status });
      expect((error as Error).message).not.to.include(KEY);
    }
    const unreachable = new OpenAiCompatibleProvider({
      baseURL: 'http://127.0.0.1:9/v1',
      apiKey: KEY,
      timeoutMs: 2_000,
      maxRetries: 0,
    });
    const error = await unreachable.stream(request('m1'), () => undefined).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(LlmError).and.include({ retryable: true });
  });

  it('probes through /v1/models with the key', async () => {
    await provider().probe();
    expect(stub.modelListAuthorizations).to.deep.equal([`Bearer ${KEY}`]);
  });

  describe('FallbackChain', () => {
    const chain = (fallbacks: string[]) => {
      const fallen: Array<[string, string]> = [];
      const steps = ['big', ...fallbacks].map((model) => ({
        ref: `local:${model}`,
        modelId: model,
        provider: provider(),
      }));
      return { fallen, chain: new FallbackChain(steps, (from, to) => fallen.push([from.ref, to.ref])) };
    };
    const request = { messages: MESSAGES, temperature: 0, maxTokens: 64 };

    it('a 429 before the first token: the next model answers, and the result names it', async () => {
      stub.script('big', { kind: 'status', status: 429 });
      const { chain: models, fallen } = chain(['small']);
      const tokens: string[] = [];
      const result = await models.stream(request, (delta) => tokens.push(delta));
      expect(result.model).to.equal('local:small');
      expect(tokens.join('')).to.equal('Answer from small.');
      expect(fallen).to.deep.equal([['local:big', 'local:small']]);
      expect(stub.requests.map((record) => record.body.model)).to.deep.equal(['big', 'small']);
    });

    it('a failure after tokens is final: the fallback is never asked', async () => {
      stub.script('big', { kind: 'cut', afterTokens: 2 });
      const { chain: models, fallen } = chain(['small']);
      const tokens: string[] = [];
      const error = await models
        .stream(request, (delta) => tokens.push(delta))
        .catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(LlmError);
      expect(tokens.join('')).to.equal('Answer from ');
      expect(fallen).to.deep.equal([]);
      expect(stub.requestsFor('small')).to.have.length(0);
    });

    it('a final error (401) does not fall back; the last model failing ends the chain', async () => {
      stub.script('big', { kind: 'status', status: 401 });
      const first = chain(['small']);
      const refused = await first.chain.stream(request, () => undefined).catch((caught: unknown) => caught);
      expect(refused).to.include({ retryable: false, status: 401 });
      expect(stub.requestsFor('small')).to.have.length(0);

      stub.script('big', { kind: 'status', status: 503 });
      stub.script('small', { kind: 'status', status: 503 });
      const second = chain(['small']);
      const failed = await second.chain.stream(request, () => undefined).catch((caught: unknown) => caught);
      expect(failed).to.include({ retryable: true, status: 503 });
      expect(second.fallen).to.deep.equal([['local:big', 'local:small']]);
    });

    it('stays with the model that answered for the answer’s later calls', async () => {
      stub.script('big', { kind: 'status', status: 500 });
      const { chain: models } = chain(['small']);
      await models.stream(request, () => undefined);
      const again = await models.stream(request, () => undefined);
      expect(again.model).to.equal('local:small');
      expect(stub.requests.map((record) => record.body.model)).to.deep.equal(['big', 'small', 'small']);
    });
  });
});
