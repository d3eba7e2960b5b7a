import { expect } from 'chai';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

const ADMIN = { email: 'validation-admin@example.com', password: 'admin password for tests' };
const long = (n: number) => 'x'.repeat(n);

interface Case {
  name: string;
  body: unknown;
  /** Paths that must appear in `errors`. */
  paths: string[];
}

describe('bad input on every JSON body → 400 with field-level errors', () => {
  let edge: TestEdge;
  let api: ApiClient;
  let admin: string;
  let targetId: string;
  let conversationId: string;
  let userToken: string;

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('validation'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('validation'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      MAX_JSON_BYTES: '65536',
    });
    api = new ApiClient(edge.url);
    admin = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body.accessToken;
    const target = await api.signup('target');
    targetId = target.user.id;
    userToken = target.accessToken;
    conversationId = (await api.request('POST', '/api/v1/conversations', { token: userToken, body: {} })).body
      .id;
  });
  after(() => edge?.stop());

  const endpoints: { method: string; path: () => string; auth?: boolean | 'user'; cases: Case[] }[] = [
    {
      method: 'POST',
      path: () => '/api/v1/conversations',
      auth: 'user',
      cases: [
        {
          name: 'wrong types',
          body: { title: 5, mode: 'chatty', documentIds: 'all' },
          paths: ['body.title', 'body.mode', 'body.documentIds'],
        },
        { name: 'oversized strings', body: { title: long(300) }, paths: ['body.title'] },
        { name: 'unknown fields', body: { title: 'x', owner: 'someone' }, paths: ['body.owner'] },
        {
          name: 'a malformed document id',
          body: { documentIds: ['not-a-uuid'] },
          paths: ['body.documentIds.0'],
        },
      ],
    },
    {
      method: 'PATCH',
      path: () => `/api/v1/conversations/${conversationId}`,
      auth: 'user',
      cases: [
        { name: 'missing fields', body: {}, paths: ['body'] },
        { name: 'wrong types', body: { title: 5, mode: 1 }, paths: ['body.title', 'body.mode'] },
        { name: 'oversized strings', body: { title: long(300) }, paths: ['body.title'] },
        { name: 'unknown fields', body: { title: 'x', pinned: true }, paths: ['body.pinned'] },
      ],
    },
    {
      method: 'POST',
      path: () => `/api/v1/conversations/${conversationId}/messages`,
      auth: 'user',
      cases: [
        { name: 'missing fields', body: {}, paths: ['body.content'] },
        {
          name: 'wrong types',
          body: { content: 1, clientMessageId: 2 },
          paths: ['body.content', 'body.clientMessageId'],
        },
        {
          name: 'oversized strings',
          body: { content: long(32_001), clientMessageId: long(101) },
          paths: ['body.content', 'body.clientMessageId'],
        },
        { name: 'unknown fields', body: { content: 'hi', role: 'system' }, paths: ['body.role'] },
      ],
    },
    {
      method: 'POST',
      path: () => '/api/v1/auth/signup',
      cases: [
        { name: 'missing fields', body: {}, paths: ['body.email', 'body.password'] },
        {
          name: 'wrong types',
          body: { email: 42, password: ['x'], name: false },
          paths: ['body.email', 'body.password', 'body.name'],
        },
        {
          name: 'oversized strings',
          body: { email: `${long(400)}@example.com`, password: long(300), name: long(300) },
          paths: ['body.email', 'body.password', 'body.name'],
        },
        {
          name: 'unknown fields',
          body: { email: 'a@example.com', password: long(12), role: 'admin' },
          paths: ['body.role'],
        },
        {
          name: 'a short password',
          body: { email: 'a@example.com', password: 'short' },
          paths: ['body.password'],
        },
      ],
    },
    {
      method: 'POST',
      path: () => '/api/v1/auth/login',
      cases: [
        { name: 'missing fields', body: {}, paths: ['body.email', 'body.password'] },
        { name: 'wrong types', body: { email: null, password: 1 }, paths: ['body.email', 'body.password'] },
        {
          name: 'oversized strings',
          body: { email: 'a@example.com', password: long(300) },
          paths: ['body.password'],
        },
        {
          name: 'unknown fields',
          body: { email: 'a@example.com', password: 'x', remember: true },
          paths: ['body.remember'],
        },
        {
          name: 'an unknown session kind',
          body: { email: 'a@example.com', password: 'x', session: 'localStorage' },
          paths: ['body.session'],
        },
      ],
    },
    ...(['refresh', 'logout'] as const).map((route) => ({
      method: 'POST',
      path: () => `/api/v1/auth/${route}`,
      // `{}` is valid: the browser's variant, whose token is the session cookie (authCookie.test.ts).
      cases: [
        { name: 'wrong types', body: { refreshToken: 7 }, paths: ['body.refreshToken'] },
        { name: 'oversized strings', body: { refreshToken: long(500) }, paths: ['body.refreshToken'] },
        { name: 'unknown fields', body: { refreshToken: 'x', all: true }, paths: ['body.all'] },
      ],
    })),
    {
      method: 'PATCH',
      path: () => `/api/v1/admin/users/${targetId}`,
      auth: true,
      cases: [
        { name: 'missing fields', body: {}, paths: ['body'] },
        {
          name: 'wrong types',
          body: { role: 'emperor', disabled: 'yes' },
          paths: ['body.role', 'body.disabled'],
        },
        { name: 'oversized strings', body: { name: long(300) }, paths: ['body.name'] },
        { name: 'unknown fields', body: { name: 'x', email: 'new@example.com' }, paths: ['body.email'] },
      ],
    },
    {
      method: 'PUT',
      path: () => '/api/v1/admin/settings/model',
      auth: true,
      cases: [
        { name: 'missing fields', body: {}, paths: ['body.value'] },
        { name: 'wrong types', body: { value: 12 }, paths: ['body.value'] },
        { name: 'oversized strings', body: { value: long(300) }, paths: ['body.value'] },
        { name: 'unknown fields', body: { value: 'm', scope: 'all' }, paths: ['body.scope'] },
      ],
    },
  ];

  for (const endpoint of endpoints) {
    for (const testCase of endpoint.cases) {
      it(`${endpoint.method} ${endpoint.path().replace(/[0-9a-f-]{36}/, ':id')}: ${testCase.name}`, async () => {
        const response = await api.request(endpoint.method, endpoint.path(), {
          body: testCase.body,
          token: endpoint.auth === 'user' ? userToken : endpoint.auth ? admin : undefined,
        });
        expect(response.status, JSON.stringify(response.body)).to.equal(400);
        expect(response.headers.get('content-type')).to.match(/problem\+json/);
        expect(response.body.code).to.equal('validation_failed');
        const paths = response.body.errors.map((error: { path: string; message: string }) => {
          expect(error.message).to.be.a('string').and.not.equal('');
          return error.path;
        });
        expect(paths).to.include.members(testCase.paths);
      });
    }
  }

  it('leaves nothing behind when a signup is refused', async () => {
    const email = 'half-written@example.com';
    const refused = await api.request('POST', '/api/v1/auth/signup', {
      body: { email, password: long(12), role: 'admin' },
    });
    expect(refused.status).to.equal(400);
    const search = await api.request('GET', `/api/v1/admin/users?q=half-written`, { token: admin });
    expect(search.body.items).to.deep.equal([]);
  });

  it('answers 415 for a body that is not JSON, 400 for broken JSON, 413 for too much JSON', async () => {
    const form = await api.request('POST', '/api/v1/auth/login', {
      rawBody: 'email=a@example.com&password=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).to.equal(415);
    expect(form.body.code).to.equal('unsupported_media_type');

    const broken = await api.request('POST', '/api/v1/auth/login', {
      rawBody: '{"email": "a@example.com", ',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).to.equal(400);
    expect(broken.body.code).to.equal('invalid_json');

    const huge = await api.request('POST', '/api/v1/auth/login', {
      body: { email: 'a@example.com', password: long(70_000) },
    });
    expect(huge.status).to.equal(413);
    expect(huge.body.code).to.equal('payload_too_large');
  });

  it('never shows a stack trace or an internal detail in an error', async () => {
    const response = await api.request('GET', '/api/v1/admin/users?limit=abc', { token: admin });
    expect(response.status).to.equal(400);
    expect(JSON.stringify(response.body)).not.to.match(/at \w+ \(|node_modules|\.ts:\d+/);
  });
});
