import { expect } from 'chai';
import { readSettings } from '../../src/settings/RuntimeSettings.ts';
import { SettingsCache } from '../../src/settings/SettingsCache.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { type ChatStack, startChatStack } from '../support/chatStack.ts';
import type { GroqStub } from '../support/GroqStub.ts';

const ADMIN = { email: 'settings-admin@example.com', password: 'admin password for tests' };

/**
 * Workers keep the runtime settings in memory (SettingsCache); an admin's change is announced on
 * Redis and reaches a running worker without a restart. In-process edge and workers, Groq stub.
 */
describe('runtime settings: cached by workers, changed by an admin without a restart', function () {
  this.timeout(30_000);
  let stack: ChatStack;
  let stub: GroqStub;
  let api: ApiClient;
  let admin: string;
  let alice: Session;

  before(async () => {
    stack = await startChatStack(
      'settings',
      { ttftMs: 1, tokensPerSecond: 5_000, answerTokens: 8 },
      { RATE_LIMIT_MESSAGES: '10000/1m', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
    );
    stub = stack.stub;
    api = new ApiClient(stack.edge.url);
    admin = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body.accessToken;
    alice = await api.signup('alice');
  });
  after(() => stack?.stop());

  /** Sends a question in a titled conversation (no title job) and returns the model request it caused. */
  async function ask(content: string) {
    const conversation = await api.request('POST', '/api/v1/conversations', {
      token: alice.accessToken,
      body: { title: 'fixed' },
    });
    const sent = await api.request('POST', `/api/v1/conversations/${conversation.body.id}/messages`, {
      token: alice.accessToken,
      body: { content },
    });
    expect(sent.status).to.equal(202);
    const record = await stub.waitFor(
      'completed',
      (request) => request.body.stream === true && JSON.stringify(request.body.messages).includes(content),
    );
    return record.body;
  }

  const put = (key: string, value: unknown) =>
    api.request('PUT', `/api/v1/admin/settings/${key}`, { token: admin, body: { value } });

  it("uses an admin's new model and maxTokens in the next answer, with the worker still running", async () => {
    const before = await ask('What is the first question?');
    expect(before.model).to.equal('llama-3.1-8b-instant');
    expect(before.max_completion_tokens).to.equal(1024);

    expect((await put('model', 'llama-3.3-70b-versatile')).status).to.equal(200);
    expect((await put('maxTokens', 64)).status).to.equal(200);
    const after = await ask('What is the second question?');
    expect(after.model).to.equal('llama-3.3-70b-versatile');
    expect(after.max_completion_tokens).to.equal(64);

    // And back: every change is announced, not only the first.
    expect((await put('model', 'llama-3.1-8b-instant')).status).to.equal(200);
    expect((await ask('What is the third question?')).model).to.equal('llama-3.1-8b-instant');
  });

  it('reads the table once until invalidated, and never keeps a read that an invalidation overtook', async () => {
    const em = stack.edge.runtime.orm.em.fork();
    const config = stack.edge.runtime.config;
    let reads = 0;
    let release: () => void = () => undefined;
    let gate: Promise<void> = Promise.resolve();
    const countingEm = {
      find: async (...args: unknown[]) => {
        reads += 1;
        await gate;
        return (em.find as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    } as unknown as typeof em;
    const cache = new SettingsCache(config);
    const first = await cache.get(countingEm);
    await cache.get(countingEm);
    expect(reads).to.equal(1);
    expect(first).to.deep.equal(await readSettings(em, config));

    // A read in flight when an invalidation arrives may hold the old value: it is not kept.
    gate = new Promise((resolve) => {
      release = resolve;
    });
    cache.invalidate();
    const slow = cache.get(countingEm);
    cache.invalidate();
    release();
    await slow;
    await cache.get(countingEm);
    expect(reads).to.equal(3);
  });
});
