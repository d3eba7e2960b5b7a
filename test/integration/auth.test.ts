import { QueueEvents } from 'bullmq';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { signVerificationToken, verificationLink } from '../../src/auth/emailVerification.ts';
import { startWorkers } from '../../workers/startWorkers.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { expiredAccessToken } from '../support/tokens.ts';

const ADMIN = { email: 'Admin@Example.com', password: 'admin password for tests' };

describe('accounts and tokens', () => {
  let edge: TestEdge;
  let api: ApiClient;

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('auth'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('auth'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    api = new ApiClient(edge.url);
  });
  after(() => edge?.stop());

  describe('token lifecycle', () => {
    it('signup → login → refresh rotation → reuse revokes the family → logout', async () => {
      const signup = await api.request('POST', '/api/v1/auth/signup', {
        body: { email: 'Life.Cycle@Example.com', password: 'a long enough password', name: 'Lee' },
      });
      expect(signup.status).to.equal(201);
      expect(signup.body.user).to.include({
        email: 'life.cycle@example.com',
        name: 'Lee',
        role: 'user',
        emailVerified: false,
      });
      expect(JSON.stringify(signup.body)).not.to.match(/argon2|passwordHash/);

      const login = await api.request('POST', '/api/v1/auth/login', {
        body: { email: 'LIFE.CYCLE@example.com', password: 'a long enough password' },
      });
      expect(login.status).to.equal(200);
      const me = await api.request('GET', '/api/v1/auth/me', { token: login.body.accessToken });
      expect(me.status).to.equal(200);
      expect(me.body.id).to.equal(signup.body.user.id);

      const first = login.body.refreshToken;
      const rotated = await api.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: first } });
      expect(rotated.status).to.equal(200);
      expect(rotated.body.refreshToken).to.be.a('string').and.not.equal(first);
      expect(
        (await api.request('GET', '/api/v1/auth/me', { token: rotated.body.accessToken })).status,
      ).to.equal(200);

      // The spent token comes back: it leaked, so the whole family goes, the fresh token included.
      const reuse = await api.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: first } });
      expect(reuse.status).to.equal(401);
      expect(reuse.body.code).to.equal('refresh_token_reused');
      const successor = await api.request('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: rotated.body.refreshToken },
      });
      expect(successor.status).to.equal(401);

      // The signup session is another family and still works until logged out.
      expect(
        await api.request('POST', '/api/v1/auth/logout', {
          body: { refreshToken: signup.body.refreshToken },
        }),
      ).to.include({
        status: 204,
      });
      const afterLogout = await api.request('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: signup.body.refreshToken },
      });
      expect(afterLogout.status).to.equal(401);
      expect(afterLogout.body.code).to.equal('refresh_token_revoked');
    });

    it('refuses a logged-out token as signed out, without signing out the other sessions', async () => {
      const session = await api.signup('logout');
      const other = await api.request('POST', '/api/v1/auth/login', {
        body: { email: session.user.email, password: session.password },
      });
      // A rotated pair first, so the logged-out token has spent predecessors in its family.
      const rotated = await api.request('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      });
      expect(rotated.status).to.equal(200);
      const logout = await api.request('POST', '/api/v1/auth/logout', {
        body: { refreshToken: rotated.body.refreshToken },
      });
      expect(logout.status).to.equal(204);

      const again = await api.request('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: rotated.body.refreshToken },
      });
      expect(again.status).to.equal(401);
      expect(again.body).to.include({
        code: 'refresh_token_revoked',
        detail: 'This session was signed out; sign in again.',
      });
      expect(JSON.stringify(again.body)).not.to.include(rotated.body.refreshToken);
      // Presenting it twice changes nothing: still signed out, not a leak.
      const twice = await api.request('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: rotated.body.refreshToken },
      });
      expect(twice.body.code).to.equal('refresh_token_revoked');
      const stillIn = await api.request('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: other.body.refreshToken },
      });
      expect(stillIn.status).to.equal(200);

      // The spent predecessor is still a reuse: that family is revoked as before.
      const reuse = await api.request('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      });
      expect(reuse.body.code).to.equal('refresh_token_reused');
    });

    it('answers an unknown email exactly like a wrong password', async () => {
      const { user } = await api.signup('login');
      const wrongPassword = await api.request('POST', '/api/v1/auth/login', {
        body: { email: user.email, password: 'not it' },
      });
      const unknownEmail = await api.request('POST', '/api/v1/auth/login', {
        body: { email: 'nobody@example.com', password: 'not it' },
      });
      expect(wrongPassword.status).to.equal(401);
      expect(unknownEmail.status).to.equal(401);
      const { requestId: _a, ...wrong } = wrongPassword.body;
      const { requestId: _b, ...unknown } = unknownEmail.body;
      expect(unknown).to.deep.equal(wrong);
    });

    it('refuses a second account for the same address in another case', async () => {
      const { user } = await api.signup('dup');
      const again = await api.request('POST', '/api/v1/auth/signup', {
        body: { email: user.email.toUpperCase(), password: 'another long password' },
      });
      expect(again.status).to.equal(409);
      expect(again.body.code).to.equal('conflict');
    });

    it('refuses missing, tampered and expired access tokens with 401', async () => {
      const { user, accessToken } = await api.signup('tokens');
      expect((await api.request('GET', '/api/v1/auth/me')).status).to.equal(401);

      const [header, payload, signature] = accessToken.split('.');
      const forged = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'admin' }),
      );
      const tampered = await api.request('GET', '/api/v1/auth/me', {
        token: `${header}.${forged.toString('base64url')}.${signature}`,
      });
      expect(tampered.status).to.equal(401);
      expect(tampered.body.code).to.equal('unauthorized');

      const expiredToken = await expiredAccessToken(user.id);
      const expired = await api.request('GET', '/api/v1/auth/me', { token: expiredToken });
      expect(expired.status).to.equal(401);
      expect(expired.body.code).to.equal('token_expired');

      const otherSecret = await new SignJWT({ role: 'user', typ: 'access' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user.id)
        .setIssuer('parley')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('a different secret of more than thirty-two chars'));
      expect((await api.request('GET', '/api/v1/auth/me', { token: otherSecret })).status).to.equal(401);
    });
  });

  describe('email verification', () => {
    it('queues the mail at signup; a worker sends it; the link marks the address verified', async () => {
      const events = new QueueEvents('maintenance', {
        connection: edge.runtime.redis.create('blocking', 'test-events'),
        prefix: edge.runtime.config.redis.queuePrefix,
      });
      await events.waitUntilReady();
      const workers = await startWorkers(edge.runtime, ['maintenance']);
      try {
        const session = await api.signup('verify');
        const queue = edge.runtime.queues.get('maintenance');
        const queued = (await queue.getJobs(['waiting', 'active', 'completed', 'delayed'])).filter(
          (job) => job.name === 'send-verification-email' && job.data.userId === session.user.id,
        );
        expect(queued).to.have.length(1);
        expect(await queued[0]!.waitUntilFinished(events)).to.deep.equal({ sent: true });

        // The mail opens the web app's page, which calls the API with the token.
        expect(verificationLink('https://chat.example.com/', 'a b')).to.equal(
          'https://chat.example.com/verify-email?token=a%20b',
        );
        const token = await signVerificationToken(edge.runtime.accessTokens, {
          id: session.user.id,
          role: 'user',
        });
        const verified = await api.request('GET', `/api/v1/auth/verify?token=${encodeURIComponent(token)}`);
        expect(verified.status).to.equal(200);
        expect(verified.body.user.emailVerified).to.equal(true);
        // An access token is not a verification token, and a broken one is refused.
        expect(
          (await api.request('GET', `/api/v1/auth/verify?token=${session.accessToken}`)).status,
        ).to.equal(400);
        expect((await api.request('GET', '/api/v1/auth/verify?token=nonsense')).body.code).to.equal(
          'verification_failed',
        );
      } finally {
        await Promise.all(workers.map((worker) => worker.close()));
        await events.close();
      }
    });
  });

  describe('administration', () => {
    let admin: string;
    before(async () => {
      const login = await api.request('POST', '/api/v1/auth/login', { body: ADMIN });
      expect(login.status).to.equal(200);
      expect(login.body.user.role).to.equal('admin');
      admin = login.body.accessToken;
    });

    it('lists and searches users page by page', async () => {
      const marker = `page${Date.now()}`;
      for (let i = 0; i < 3; i++) await api.signup(marker);
      const first = await api.request('GET', `/api/v1/admin/users?q=${marker}&limit=2`, { token: admin });
      expect(first.status).to.equal(200);
      expect(first.body.items).to.have.length(2);
      expect(first.body.nextCursor).to.be.a('string');
      const second = await api.request(
        'GET',
        `/api/v1/admin/users?q=${marker}&limit=2&cursor=${first.body.nextCursor}`,
        {
          token: admin,
        },
      );
      expect(second.body.items).to.have.length(1);
      expect(second.body.nextCursor).to.equal(null);
      const emails = [...first.body.items, ...second.body.items].map((user: { email: string }) => user.email);
      expect(new Set(emails).size).to.equal(3);
      for (const email of emails) expect(email).to.include(marker);
    });

    it('disabling a user ends their access and sessions at once; deleting removes them', async () => {
      const victim = await api.signup('disable');
      const disabled = await api.request('PATCH', `/api/v1/admin/users/${victim.user.id}`, {
        token: admin,
        body: { disabled: true },
      });
      expect(disabled.status).to.equal(200);
      expect(disabled.body.disabled).to.equal(true);
      expect((await api.request('GET', '/api/v1/auth/me', { token: victim.accessToken })).status).to.equal(
        401,
      );
      expect(
        (await api.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: victim.refreshToken } }))
          .status,
      ).to.equal(401);
      const login = await api.request('POST', '/api/v1/auth/login', {
        body: { email: victim.user.email, password: victim.password },
      });
      expect(login.status).to.equal(401);

      expect(
        (await api.request('DELETE', `/api/v1/admin/users/${victim.user.id}`, { token: admin })).status,
      ).to.equal(204);
      expect(
        (
          await api.request('PATCH', `/api/v1/admin/users/${victim.user.id}`, {
            token: admin,
            body: { name: 'x' },
          })
        ).status,
      ).to.equal(404);
    });

    it('keeps an admin from locking themselves out', async () => {
      const me = await api.request('GET', '/api/v1/auth/me', { token: admin });
      const demote = await api.request('PATCH', `/api/v1/admin/users/${me.body.id}`, {
        token: admin,
        body: { role: 'user' },
      });
      expect(demote.status).to.equal(409);
    });

    it('validates runtime settings and serves them with their defaults', async () => {
      const defaults = await api.request('GET', '/api/v1/admin/settings', { token: admin });
      expect(defaults.body).to.deep.equal({
        model: 'llama-3.1-8b-instant',
        temperature: 0.7,
        maxTokens: 1024,
        retentionDays: 30,
        topK: 6,
        maxToolSteps: 4,
        promptSuggestions: defaults.body.promptSuggestions,
      });
      expect(defaults.body.promptSuggestions).to.have.length(4);
      const changed = await api.request('PUT', '/api/v1/admin/settings/temperature', {
        token: admin,
        body: { value: 0.2 },
      });
      expect(changed.status).to.equal(200);
      expect(changed.body.temperature).to.equal(0.2);
      const bad = await api.request('PUT', '/api/v1/admin/settings/temperature', {
        token: admin,
        body: { value: 7 },
      });
      expect(bad.status).to.equal(400);
      expect(bad.body.errors[0].path).to.equal('body.value');
      expect(
        (await api.request('PUT', '/api/v1/admin/settings/colour', { token: admin, body: { value: 1 } }))
          .status,
      ).to.equal(404);
      expect(
        (await api.request('GET', '/api/v1/admin/settings', { token: admin })).body.temperature,
      ).to.equal(0.2);
    });

    it('serves the prompt suggestions to every user; admins change them within their rules', async () => {
      const { accessToken } = await api.signup('suggestions');
      const initial = await api.request('GET', '/api/v1/prompt-suggestions', { token: accessToken });
      expect(initial.status).to.equal(200);
      expect(initial.body.suggestions).to.have.length(4);
      for (const suggestion of initial.body.suggestions) expect(suggestion).to.be.a('string').and.not.empty;
      expect((await api.request('GET', '/api/v1/prompt-suggestions')).status).to.equal(401);

      const chosen = ['Plan my week', 'Explain this error message'];
      const changed = await api.request('PUT', '/api/v1/admin/settings/promptSuggestions', {
        token: admin,
        body: { value: chosen.map((text) => `  ${text} `) },
      });
      expect(changed.status).to.equal(200);
      expect(changed.body.promptSuggestions).to.deep.equal(chosen);
      expect(
        (await api.request('GET', '/api/v1/prompt-suggestions', { token: accessToken })).body.suggestions,
      ).to.deep.equal(chosen);

      for (const value of [Array(9).fill('too many'), [''], ['x'.repeat(201)], 'not a list', [3]]) {
        const refused = await api.request('PUT', '/api/v1/admin/settings/promptSuggestions', {
          token: admin,
          body: { value },
        });
        expect(refused.status, JSON.stringify(value)).to.equal(400);
      }
      // None of those reached the store; an empty list (no suggestions) is a valid choice.
      const none = await api.request('PUT', '/api/v1/admin/settings/promptSuggestions', {
        token: admin,
        body: { value: [] },
      });
      expect(none.body.promptSuggestions).to.deep.equal([]);
      expect(
        (await api.request('GET', '/api/v1/prompt-suggestions', { token: accessToken })).body.suggestions,
      ).to.deep.equal([]);
    });

    it('is closed to users who are not administrators', async () => {
      const { accessToken, user } = await api.signup('plain');
      for (const [method, path, body] of [
        ['GET', '/api/v1/admin/users'],
        ['GET', '/api/v1/admin/settings'],
        ['PUT', '/api/v1/admin/settings/topK', { value: 3 }],
        ['PATCH', `/api/v1/admin/users/${user.id}`, { role: 'admin' }],
        ['DELETE', `/api/v1/admin/users/${user.id}`],
      ] as const) {
        const response = await api.request(method, path, { token: accessToken, body });
        expect(response.status, `${method} ${path}`).to.equal(403);
      }
      const queues = await fetch(`${edge.url}/admin/queues`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(queues.status).to.equal(401);
      const asAdmin = await fetch(`${edge.url}/admin/queues`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(asAdmin.status).to.equal(200);
    });
  });
});
