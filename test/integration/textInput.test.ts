import { expect } from 'chai';
import { STORABLE_TEXT_MESSAGE } from '../../src/validation/text.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { RowCounts } from '../support/rowCounts.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

const ADMIN = { email: 'text-admin@example.com', password: 'admin password for tests' };

/**
 * Text Postgres cannot store. A lone surrogate can only arrive inside JSON (`"\ud800"`): in a URL
 * it has no UTF-8 form, so clients send U+FFFD instead, which is ordinary text.
 */
const BAD = { NUL: 'a\u0000b', 'a lone surrogate': 'a\ud800b' } as const;

interface Case {
  name: string;
  /** Where the bad text goes: 'json' cases are sent with both kinds, 'url' cases with NUL only. */
  in: 'json' | 'url';
  request: (bad: string) => { method: string; path: string; body?: unknown; as?: 'user' | 'admin' };
  field: string;
}

describe('text with NUL or unpaired surrogates → 400 naming the field, nothing written', () => {
  let edge: TestEdge;
  let api: ApiClient;
  let rows: RowCounts;
  let user: Session;
  let adminToken: string;
  let conversationId: string;
  let chat: ChatClient;

  before(async () => {
    const databaseUrl = await createTestDatabase('text_input');
    edge = await startInProcessEdge({
      DATABASE_URL: databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('text-input'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    api = new ApiClient(edge.url);
    adminToken = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body.accessToken;
    user = await api.signup('text');
    conversationId = (
      await api.request('POST', '/api/v1/conversations', { token: user.accessToken, body: { title: 'ok' } })
    ).body.id;
    chat = await ChatClient.connect(edge.url, user.accessToken);
    rows = await RowCounts.connect(databaseUrl);
  });
  after(async () => {
    chat?.close();
    await rows?.close();
    await edge?.stop();
  });

  const q = (bad: string) => encodeURIComponent(bad);
  const cases: Case[] = [
    {
      name: 'signup password',
      in: 'json',
      request: (bad) => ({
        method: 'POST',
        path: '/auth/signup',
        body: { email: 'nul-pw@example.com', password: `long enough ${bad}` },
      }),
      field: 'body.password',
    },
    {
      name: 'signup name',
      in: 'json',
      request: (bad) => ({
        method: 'POST',
        path: '/auth/signup',
        body: { email: 'nul-name@example.com', password: 'long enough password', name: bad },
      }),
      field: 'body.name',
    },
    {
      name: 'login password',
      in: 'json',
      request: (bad) => ({
        method: 'POST',
        path: '/auth/login',
        body: { email: user.user.email, password: bad },
      }),
      field: 'body.password',
    },
    {
      name: 'refresh token',
      in: 'json',
      request: (bad) => ({ method: 'POST', path: '/auth/refresh', body: { refreshToken: bad } }),
      field: 'body.refreshToken',
    },
    {
      name: 'logout token',
      in: 'json',
      request: (bad) => ({ method: 'POST', path: '/auth/logout', body: { refreshToken: bad } }),
      field: 'body.refreshToken',
    },
    {
      name: 'verify token',
      in: 'url',
      request: (bad) => ({ method: 'GET', path: `/auth/verify?token=${q(bad)}` }),
      field: 'query.token',
    },
    {
      name: 'new conversation title',
      in: 'json',
      request: (bad) => ({ method: 'POST', path: '/conversations', body: { title: bad }, as: 'user' }),
      field: 'body.title',
    },
    {
      name: 'renamed conversation title',
      in: 'json',
      request: (bad) => ({
        method: 'PATCH',
        path: `/conversations/${conversationId}`,
        body: { title: bad },
        as: 'user',
      }),
      field: 'body.title',
    },
    {
      name: 'conversation search',
      in: 'url',
      request: (bad) => ({ method: 'GET', path: `/conversations?q=${q(bad)}`, as: 'user' }),
      field: 'query.q',
    },
    {
      name: 'conversation cursor',
      in: 'url',
      request: (bad) => ({ method: 'GET', path: `/conversations?cursor=${q(bad)}`, as: 'user' }),
      field: 'query.cursor',
    },
    {
      name: 'message content',
      in: 'json',
      request: (bad) => ({
        method: 'POST',
        path: `/conversations/${conversationId}/messages`,
        body: { content: bad },
        as: 'user',
      }),
      field: 'body.content',
    },
    {
      name: 'message client id',
      in: 'json',
      request: (bad) => ({
        method: 'POST',
        path: `/conversations/${conversationId}/messages`,
        body: { content: 'hello', clientMessageId: bad },
        as: 'user',
      }),
      field: 'body.clientMessageId',
    },
    {
      name: 'history search',
      in: 'url',
      request: (bad) => ({ method: 'GET', path: `/search?q=${q(bad)}`, as: 'user' }),
      field: 'query.q',
    },
    {
      name: 'admin user search',
      in: 'url',
      request: (bad) => ({ method: 'GET', path: `/admin/users?q=${q(bad)}`, as: 'admin' }),
      field: 'query.q',
    },
    {
      name: 'admin rename',
      in: 'json',
      request: (bad) => ({
        method: 'PATCH',
        path: `/admin/users/${user.user.id}`,
        body: { name: bad },
        as: 'admin',
      }),
      field: 'body.name',
    },
    {
      name: 'setting value',
      in: 'json',
      request: (bad) => ({ method: 'PUT', path: '/admin/settings/model', body: { value: bad }, as: 'admin' }),
      field: 'body.value',
    },
    {
      name: 'setting key',
      in: 'url',
      request: (bad) => ({
        method: 'PUT',
        path: `/admin/settings/${q(bad)}`,
        body: { value: 'm' },
        as: 'admin',
      }),
      field: 'params.key',
    },
  ];

  for (const testCase of cases) {
    for (const [kind, bad] of Object.entries(BAD)) {
      if (testCase.in === 'url' && kind !== 'NUL') continue;
      it(`${testCase.name}: ${kind}`, async () => {
        const { method, path, body, as } = testCase.request(bad);
        const before = await rows.snapshot();
        const response = await api.request(method, `/api/v1${path}`, {
          body,
          token: as === 'user' ? user.accessToken : as === 'admin' ? adminToken : undefined,
        });
        expect(response.status, JSON.stringify(response.body)).to.equal(400);
        expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(response.body.code).to.equal('validation_failed');
        expect(response.body.errors).to.deep.include({
          path: testCase.field,
          message: STORABLE_TEXT_MESSAGE,
        });
        expect(await rows.snapshot()).to.deep.equal(before);
      });
    }
  }

  for (const [kind, bad] of Object.entries(BAD)) {
    for (const [field, payload] of [
      ['content', { content: bad }],
      ['clientMessageId', { content: 'hello', clientMessageId: bad }],
    ] as const) {
      it(`socket chat:send ${field}: ${kind} → validation_failed ack naming the field`, async () => {
        const before = await rows.snapshot();
        const [error, result] = await chat.emit('chat:send', { conversationId, ...payload });
        expect(result).to.equal(undefined);
        expect(error?.code).to.equal('validation_failed');
        expect(error?.message).to.include(`${field}: ${STORABLE_TEXT_MESSAGE}`);
        expect(await rows.snapshot()).to.deep.equal(before);
      });
    }
  }
});
