import { expect } from 'chai';
import { ApiClient, type ApiResponse } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

const ADMIN = { email: 'fallbacks-admin@example.com', password: 'admin password for fallback tests' };

const model = (id: string, fallbacks: string[] = [], extra: Record<string, unknown> = {}) => ({
  id,
  contextTokens: 8_000,
  fallbacks,
  ...extra,
});

/**
 * A model's `fallbacks` name ids of GET /models: an unknown one is refused (422) when a provider
 * is created or changed, and one whose target is deleted later is shown as dangling in the
 * admin's listing (advisory: nothing is refused then).
 */
describe('admin providers: fallbacks must name models of GET /models', () => {
  let edge: TestEdge;
  let api: ApiClient;
  let admin: string;
  const call = (method: string, path: string, body?: unknown): Promise<ApiResponse> =>
    api.request(method, `/api/v1${path}`, { token: admin, body });
  const expectUnknownFallback = (response: ApiResponse, ref: string, path: string) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(422);
    expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(response.body.code).to.equal('unknown_model');
    expect(response.body.detail).to.include(`"${ref}"`);
    expect(response.body.errors).to.deep.equal([
      { path, message: `"${ref}" is not one of the models of GET /api/v1/models` },
    ]);
  };
  const listedModels = async () => {
    const listed = await call('GET', '/admin/providers');
    expect(listed.status).to.equal(200);
    return Object.fromEntries(
      (
        listed.body.items as { name: string; models: { id: string; danglingFallbacks: string[] }[] }[]
      ).flatMap((provider) =>
        provider.models.map((entry) => [`${provider.name}:${entry.id}`, entry.danglingFallbacks]),
      ),
    );
  };

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('fallbacks'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('fallbacks'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    api = new ApiClient(edge.url);
    admin = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body.accessToken;
  });
  after(async () => {
    await edge?.stop();
  });

  it('refuses a provider whose fallback names no model (422 naming the id); nothing is stored', async () => {
    const refused = await call('POST', '/admin/providers', {
      name: 'ghosts',
      baseUrl: 'http://127.0.0.1:9/v1',
      models: [model('a'), model('b', ['offline', 'nowhere:ghost'])],
    });
    expectUnknownFallback(refused, 'nowhere:ghost', 'body.models.1.fallbacks.1');
    expect((await call('GET', '/admin/providers')).body.items).to.deep.equal([]);
    const models = await api.request('GET', '/api/v1/models', { token: admin });
    expect(models.body.items.map((entry: { id: string }) => entry.id)).to.deep.equal(['offline']);
  });

  it('accepts fallbacks to the built-in model and to the new provider’s own models, not to a disabled one', async () => {
    const disabled = await call('POST', '/admin/providers', {
      name: 'local',
      baseUrl: 'http://127.0.0.1:9/v1',
      models: [model('big', ['local:off']), model('off', [], { enabled: false })],
    });
    expectUnknownFallback(disabled, 'local:off', 'body.models.0.fallbacks.0');

    const created = await call('POST', '/admin/providers', {
      name: 'local',
      baseUrl: 'http://127.0.0.1:9/v1',
      models: [model('big', ['local:small', 'offline']), model('small')],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.models[0]).to.deep.include({
      fallbacks: ['local:small', 'offline'],
      danglingFallbacks: [],
    });
    const other = await call('POST', '/admin/providers', {
      name: 'remote',
      baseUrl: 'http://127.0.0.1:9/v1',
      models: [model('main', ['local:big'])],
    });
    expect(other.status, JSON.stringify(other.body)).to.equal(201);
  });

  it('refuses an unknown fallback on PATCH too, and leaves the provider as it was', async () => {
    const listed = await call('GET', '/admin/providers');
    const local = listed.body.items.find((provider: { name: string }) => provider.name === 'local');
    const refused = await call('PATCH', `/admin/providers/${local.id}`, {
      timeoutMs: 5_000,
      models: [model('big', ['local:gone'])],
    });
    expectUnknownFallback(refused, 'local:gone', 'body.models.0.fallbacks.0');
    const after = await call('GET', `/admin/providers/${local.id}`);
    expect(after.body.timeoutMs).to.equal(local.timeoutMs);
    expect(after.body.models.map((entry: { id: string }) => entry.id)).to.deep.equal(['big', 'small']);

    // A change that leaves the models alone is not checked.
    expect((await call('PATCH', `/admin/providers/${local.id}`, { timeoutMs: 5_000 })).status).to.equal(200);
  });

  it('shows a fallback whose target went away as dangling in the listing, without refusing anything', async () => {
    expect(await listedModels()).to.deep.equal({
      'local:big': [],
      'local:small': [],
      'remote:main': [],
    });
    const listed = await call('GET', '/admin/providers');
    const local = listed.body.items.find((provider: { name: string }) => provider.name === 'local');
    const remote = listed.body.items.find((provider: { name: string }) => provider.name === 'remote');

    // The provider's own model disabled in the same PATCH: its sibling's fallback dangles.
    const disabled = await call('PATCH', `/admin/providers/${local.id}`, {
      models: [model('big', ['local:small', 'offline']), model('small', [], { enabled: false })],
    });
    expect(disabled.status, JSON.stringify(disabled.body)).to.equal(200);
    expect(disabled.body.models[0].danglingFallbacks).to.deep.equal(['local:small']);
    // Another provider deleted: the fallback to it dangles.
    expect((await call('DELETE', `/admin/providers/${local.id}`)).status).to.equal(204);
    expect(await listedModels()).to.deep.equal({ 'remote:main': ['local:big'] });
    const one = await call('GET', `/admin/providers/${remote.id}`);
    expect(one.body.models[0]).to.deep.include({
      fallbacks: ['local:big'],
      danglingFallbacks: ['local:big'],
    });
    // Advisory: a change that keeps the dangling fallback goes through; one that adds another is refused.
    const rotated = await call('PATCH', `/admin/providers/${remote.id}`, { apiKey: 'sk-new-key-for-remote' });
    expect(rotated.status, JSON.stringify(rotated.body)).to.equal(200);
    expect(rotated.body.models[0].danglingFallbacks).to.deep.equal(['local:big']);
    const kept = await call('PATCH', `/admin/providers/${remote.id}`, {
      models: [model('main', ['local:big'], { name: 'Main' })],
    });
    expect(kept.status, JSON.stringify(kept.body)).to.equal(200);
    expect(kept.body.models[0]).to.deep.include({ name: 'Main', danglingFallbacks: ['local:big'] });
    const added = await call('PATCH', `/admin/providers/${remote.id}`, {
      models: [model('main', ['local:big', 'local:small'])],
    });
    expectUnknownFallback(added, 'local:small', 'body.models.0.fallbacks.1');
  });
});
