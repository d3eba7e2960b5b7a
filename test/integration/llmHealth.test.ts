import { expect } from 'chai';
import { LlmHealth } from '../../src/health/LlmHealth.ts';
import { GroqProvider } from '../../src/llm/GroqProvider.ts';
import { GroqStub } from '../support/GroqStub.ts';

describe('LLM health (advisory, cached)', () => {
  let stub: GroqStub;

  before(async () => {
    stub = await GroqStub.start({ rejectKey: 'revoked-key' });
  });
  after(() => stub?.close());

  const provider = (apiKey: string) =>
    new GroqProvider({ apiKey, baseURL: stub.baseURL, timeoutMs: 5_000, maxRetries: 0 });

  it('is ok when Groq answers with our key, and asks Groq at most once per interval', async () => {
    const before = stub.modelListRequests;
    const health = new LlmHealth(provider('good-key'), 60_000);
    const statuses = [await health.status(), await health.status(), await health.status()];
    for (const status of statuses) expect(status).to.include({ status: 'ok', provider: 'groq' });
    expect(stub.modelListRequests - before).to.equal(1);
  });

  it('is degraded, with a reason and no secret, when the key is refused', async () => {
    const status = await new LlmHealth(provider('revoked-key')).status();
    expect(status).to.include({ status: 'degraded', provider: 'groq' });
    expect(status.error).to.match(/credentials/);
    expect(JSON.stringify(status)).not.to.include('revoked-key');
  });

  it('is degraded when Groq cannot be reached', async () => {
    const unreachable = new GroqProvider({
      apiKey: 'k',
      baseURL: 'http://127.0.0.1:9',
      timeoutMs: 2_000,
      maxRetries: 0,
    });
    const status = await new LlmHealth(unreachable).status();
    expect(status).to.include({ status: 'degraded' });
    expect(status.error).to.match(/could not be reached/);
  });
});
