import { expect } from 'chai';
import type { Runtime } from '../../src/compose/runtime.ts';
import { loadConfig } from '../../src/config.ts';
import { apiKeySealContext, ModelProvider, type ProviderModel } from '../../src/db/entities/ModelProvider.ts';
import { newId } from '../../src/db/ids.ts';
import { ModelCatalog } from '../../src/llm/ModelCatalog.ts';
import { settingsChannel } from '../../src/redis/keys.ts';
import { publishSettingsChanged } from '../../src/settings/SettingsCache.ts';
import { GroqStub } from '../support/GroqStub.ts';
import { TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { openTaskRuntime } from '../support/taskRuntime.ts';

const model = (id: string, overrides: Partial<ProviderModel> = {}): ProviderModel => ({
  id,
  name: id,
  contextTokens: 4_096,
  tokenizer: 'llama3',
  supportsTools: false,
  fallbacks: [],
  enabled: true,
  ...overrides,
});

/** The models list, the chain an answer gets (with its budget), the key sealing, and the cache's invalidation. */
describe('ModelCatalog', function () {
  this.timeout(30_000);
  let stub: GroqStub;
  let runtime: Runtime;
  const config = loadConfig({
    GROQ_API_KEY: 'test-key',
    GROQ_MODELS: 'llama-3.3-70b-versatile',
    GROQ_FALLBACKS: 'llama-3.1-8b-instant,local:tiny',
    CHAT_CONTEXT_TOKENS: '8000',
    REDIS_URL: TEST_REDIS_URL,
  });
  const catalog = (maxAgeMs = 60_000) => new ModelCatalog({ config, secrets: runtime.secrets, maxAgeMs });
  const em = () => runtime.orm.em.fork();
  const DEFAULT = 'llama-3.1-8b-instant';

  before(async () => {
    stub = await GroqStub.start();
    runtime = await openTaskRuntime('model-catalog', stub);
    const db = em();
    const id = newId();
    db.create(ModelProvider, {
      id,
      name: 'local',
      kind: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKeySealed: runtime.secrets.seal('sk-local', apiKeySealContext(id)),
      models: [
        model('big', {
          contextTokens: 32_000,
          tokenizer: 'approximate',
          fallbacks: ['local:mid', 'local:off'],
        }),
        model('mid', { contextTokens: 6_000, tokenizer: 'approximate' }),
        model('tiny', { contextTokens: 2_048 }),
        model('off', { enabled: false }),
      ],
    });
    await db.flush();
  });
  after(async () => {
    await runtime?.shutdown.run('test over');
    await stub?.close();
  });

  it('lists the built-in Groq models (setting + GROQ_MODELS) and the enabled configured ones, the default marked', async () => {
    const list = await catalog().list(em(), DEFAULT);
    expect(list.map((entry) => [entry.ref, entry.provider, entry.isDefault])).to.deep.equal([
      ['llama-3.1-8b-instant', 'groq', true],
      ['llama-3.3-70b-versatile', 'groq', false],
      ['local:big', 'local', false],
      ['local:mid', 'local', false],
      ['local:tiny', 'local', false],
    ]);
    expect(list[0]).to.include({ contextTokens: 8_000, supportsTools: true, tokenizer: 'llama3' });
    // The admin's default may name a configured model.
    const configuredDefault = await catalog().list(em(), 'local:tiny');
    expect(configuredDefault.filter((entry) => entry.isDefault).map((entry) => entry.ref)).to.deep.equal([
      'local:tiny',
    ]);
  });

  it('chains a model with its enabled fallbacks; the budget is the smallest context, with a margin for approximate tokenizers', async () => {
    const noop = () => undefined;
    const big = await catalog().chainFor(em(), 'local:big', DEFAULT, noop);
    // mid: 6 000 × 0.75 = 4 500 (approximate); `off` is disabled and left out.
    expect(big.contextTokens).to.equal(4_500);
    expect(big.chain.primary).to.equal('local:big');

    const tiny = await catalog().chainFor(em(), 'local:tiny', DEFAULT, noop);
    expect(tiny.contextTokens).to.equal(2_048);

    // A Groq model with GROQ_FALLBACKS: its own id is skipped, local:tiny (2 048) bounds the budget.
    const groq = await catalog().chainFor(em(), 'llama-3.3-70b-versatile', DEFAULT, noop);
    expect(groq.contextTokens).to.equal(2_048);

    // No model, or one that is gone: the default (8B falls back to local:tiny per GROQ_FALLBACKS).
    const gone = await catalog().chainFor(em(), 'local:removed', DEFAULT, noop);
    expect(gone.chain.primary).to.equal(DEFAULT);
    const none = await catalog().chainFor(em(), null, 'llama-3.3-70b-versatile', noop);
    expect(none.chain.primary).to.equal('llama-3.3-70b-versatile');
  });

  it('keeps the providers until a change is announced on the settings channel', async () => {
    const prefix = uniqueQueuePrefix('model-catalog');
    const cached = catalog();
    const subscriber = runtime.redis.create('pubsub', 'catalog-test-subscriber');
    cached.listen(subscriber, prefix, runtime.logger);
    // Subscribed once this (later) SUBSCRIBE is confirmed: Redis answers in order.
    await subscriber.subscribe(settingsChannel(prefix));
    expect((await cached.list(em(), DEFAULT)).some((entry) => entry.ref === 'later:one')).to.equal(false);

    const db = em();
    db.create(ModelProvider, {
      name: 'later',
      kind: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKeySealed: null,
      models: [model('one')],
    });
    await db.flush();
    expect((await cached.list(em(), DEFAULT)).some((entry) => entry.ref === 'later:one')).to.equal(false);

    const announced = new Promise<void>((resolve) => subscriber.once('message', () => resolve()));
    const publisher = runtime.redis.create('command', 'catalog-test-publisher');
    if (publisher.status !== 'ready') await new Promise((resolve) => publisher.once('ready', resolve));
    await publishSettingsChanged(publisher, prefix);
    await announced;
    expect((await cached.list(em(), DEFAULT)).some((entry) => entry.ref === 'later:one')).to.equal(true);
  });
});
