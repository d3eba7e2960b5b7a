import { expect } from 'chai';
import type { Cookie, Request } from 'playwright-core';
import { signVerificationToken } from '../../src/auth/emailVerification.ts';
import { composer, messagesLog, send, signIn, signUp } from '../support/webApp.ts';
import {
  saveScreenshot,
  seriousAccessibilityViolations,
  WebBrowser,
  type WebUser,
} from '../support/webBrowser.ts';
import { expiredAccessToken } from '../support/webSession.ts';
import { type Credentials, newCredentials, startWebStack, type WebStack } from '../support/webStack.ts';

const REFRESH_COOKIE = 'parley_refresh';
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

const refreshCookie = async (user: WebUser): Promise<Cookie | undefined> =>
  (await user.context.cookies()).find((cookie) => cookie.name === REFRESH_COOKIE);

describe('Parley Web: accounts, the refresh cookie and the admin screen', function () {
  this.timeout(60_000);
  let stack: WebStack;
  let browser: WebBrowser;

  before(async () => {
    [stack, browser] = await Promise.all([startWebStack('webaccounts'), WebBrowser.launch()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  describe('signing in and the session cookie', () => {
    let dave: WebUser;
    let daveCredentials: Credentials;

    it('shows a signed-out visitor of an app route the sign-in screen, which passes an axe scan', async () => {
      const visitor = await browser.newUser(stack.url);
      await visitor.page.goto('/documents');
      await visitor.page.getByRole('button', { name: 'Sign in' }).waitFor();
      await visitor.page.getByRole('link', { name: 'Create an account' }).waitFor();
      await saveScreenshot(visitor.page, 'signin');
      expect(await seriousAccessibilityViolations(visitor.page)).to.deep.equal([]);

      // A wrong password is said in an alert, and nothing is stored for the page to read.
      await visitor.page.getByRole('textbox', { name: 'Email' }).fill('nobody@example.com');
      await visitor.page.getByRole('textbox', { name: 'Password' }).fill('not-the-password');
      await visitor.problems.tolerating(
        [{ text: /status of 401/, url: /\/api\/v1\/auth\/login$/ }],
        async () => {
          await visitor.page.getByRole('button', { name: 'Sign in' }).click();
          await visitor.page.getByRole('alert').waitFor();
        },
      );
      expect(await refreshCookie(visitor)).to.equal(undefined);
      await visitor.page.getByRole('link', { name: 'Create an account' }).click();
      await visitor.page.getByRole('button', { name: 'Create account' }).waitFor();
      await visitor.page.getByRole('link', { name: 'Sign in instead' }).waitFor();
      visitor.problems.assertClean('sign-in screen');
      await visitor.context.close();
    });

    it('keeps the refresh token in an httpOnly, SameSite=Strict cookie no script can read, and the access token out of storage', async () => {
      dave = await browser.newUser(stack.url);
      daveCredentials = newCredentials('dave');
      await signUp(dave.page, daveCredentials);

      const cookie = await refreshCookie(dave);
      expect(cookie, 'the refresh cookie is set').to.not.equal(undefined);
      expect(cookie).to.include({ httpOnly: true, sameSite: 'Strict', path: '/api/v1/auth', secure: false });
      expect(cookie!.expires * 1000).to.be.greaterThan(Date.now() + 24 * 3_600_000);
      expect(await dave.page.evaluate('document.cookie')).to.not.include(REFRESH_COOKIE);
      const stored = (await dave.page.evaluate(
        'JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])',
      )) as string;
      expect(stored).to.not.match(JWT);

      // A reload restores the session from the cookie (rotating it), without signing in again.
      await dave.page.reload();
      await composer(dave.page).waitFor();
      expect((await refreshCookie(dave))!.value).to.not.equal(cookie!.value);
      dave.problems.assertClean('cookie');
    });

    it('refreshes once and retries when the access token has expired, for HTTP and the socket, rotating the cookie', async () => {
      const page = dave.page;
      // The next session restore hands the page an access token that expired a minute ago; the
      // refresh cookie it sets is real, so the page must refresh again with it to go on.
      await page.route(
        '**/api/v1/auth/refresh',
        async (route) => {
          const response = await route.fetch();
          const body = await response.json();
          await route.fulfill({
            response,
            json: { ...body, accessToken: await expiredAccessToken(body.user.id, body.user.role) },
          });
        },
        { times: 1 },
      );
      const refreshes: Request[] = [];
      const expiredCalls: string[] = [];
      page.on('request', (request) => {
        if (request.url().endsWith('/api/v1/auth/refresh')) refreshes.push(request);
      });
      page.on('response', (response) => {
        if (response.status() === 401 && !response.url().endsWith('/api/v1/auth/refresh'))
          expiredCalls.push(response.url());
      });
      // The socket's handshake is refused as expired (over long-polling or a WebSocket frame).
      const socketRefused = new Promise<void>((refused) => {
        page.on('response', async (response) => {
          if (!response.url().includes('/socket.io/')) return;
          if ((await response.text().catch(() => '')).includes('token_expired')) refused();
        });
        page.on('websocket', (socket) =>
          socket.on('framereceived', ({ payload }) => {
            if (String(payload).includes('token_expired')) refused();
          }),
        );
      });
      // The conversation list waits for that refusal, so both paths meet the expired token.
      await page.route(
        (url) => url.pathname === '/api/v1/conversations',
        async (route) => {
          await socketRefused;
          await route.continue();
        },
        { times: 1 },
      );
      const before = (await refreshCookie(dave))!.value;

      await dave.problems.tolerating(
        [{ text: /status of 401/, url: /\/api\/v1\/conversations/ }],
        async () => {
          await page.reload();
          await socketRefused;
          await composer(page).waitFor();
          // The socket came back with a fresh token: an answer streams in.
          const turn = await send(page, 'Still there after the expiry?');
          await turn.answer.and(page.locator('[data-status="complete"]')).waitFor();
        },
      );
      expect(refreshes.length, 'the restore, then a refresh for the expired token').to.be.greaterThanOrEqual(
        2,
      );
      for (const request of refreshes) expect((await request.response())!.status()).to.equal(200);
      expect(expiredCalls.length, 'a call was refused as expired before the refresh').to.be.greaterThan(0);
      const after = (await refreshCookie(dave))!.value;
      expect(after).to.not.equal(before);

      // Rotation: the cookie before the reload is spent; showing it again is refused as reused.
      const reused = await stack.api.request('POST', '/api/v1/auth/refresh', {
        body: {},
        headers: { cookie: `${REFRESH_COOKIE}=${before}` },
      });
      expect(reused.status).to.equal(401);
      dave.problems.assertClean('expiry');
      await dave.context.close();
    });

    it('signs out: the cookie is cleared and the app shows the sign-in screen', async () => {
      const erin = await browser.newUser(stack.url);
      const credentials = newCredentials('erin');
      await signUp(erin.page, credentials);
      await erin.page.getByRole('button', { name: 'Sign out' }).click();
      await erin.page.getByRole('button', { name: 'Sign in' }).waitFor();
      expect(await refreshCookie(erin)).to.equal(undefined);
      await erin.page.goto('/');
      await erin.page.getByRole('button', { name: 'Sign in' }).waitFor();
      await signIn(erin.page, credentials);
      expect(await refreshCookie(erin)).to.not.equal(undefined);
      erin.problems.assertClean('sign out');
      await erin.context.close();
    });
  });

  describe('the verification link', () => {
    it('opens a page that says the address is verified, or why not', async () => {
      const account = await stack.api.signup('vera');
      expect(account.user.emailVerified).to.equal(false);
      const token = await signVerificationToken(stack.edge.runtime.accessTokens, {
        id: account.user.id,
        role: 'user',
      });
      const visitor = await browser.newUser(stack.url);
      await visitor.page.goto(`/verify-email?token=${encodeURIComponent(token)}`);
      await visitor.page.getByRole('heading', { name: 'Email address verified' }).waitFor();
      const me = await stack.api.request('GET', '/api/v1/auth/me', { token: account.accessToken });
      expect(me.body.emailVerified).to.equal(true);
      await saveScreenshot(visitor.page, 'verify-email');

      await visitor.problems.tolerating(
        [{ text: /status of 4\d\d/, url: /\/api\/v1\/auth\/verify/ }],
        async () => {
          await visitor.page.goto('/verify-email?token=not-a-token');
          await visitor.page.getByRole('alert').waitFor();
        },
      );
      expect(await visitor.page.getByRole('heading', { name: 'Email address verified' }).count()).to.equal(0);
      visitor.problems.assertClean('verify');
      await visitor.context.close();
    });
  });

  describe('admin', () => {
    it('an admin changes settings and prompt suggestions on the Admin screen, which passes an axe scan', async () => {
      const admin = await browser.newUser(stack.url);
      await signIn(admin.page, stack.admin);
      await admin.page.getByRole('link', { name: 'Admin' }).click();
      await admin.page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();
      await admin.page.getByLabel('Temperature').fill('0.3');
      await admin.page
        .getByLabel('Prompt suggestions')
        .fill('Plan a trip to Lisbon\nExplain pgvector in one line');
      await admin.page.getByRole('button', { name: 'Save settings' }).click();
      await admin.page.getByRole('status').filter({ hasText: 'Settings saved' }).waitFor();

      const settings = await stack.api.request('GET', '/api/v1/admin/settings', {
        token: await stack.tokenFor(stack.admin),
      });
      expect(settings.body).to.include({ temperature: 0.3 });
      expect(settings.body.promptSuggestions).to.deep.equal([
        'Plan a trip to Lisbon',
        'Explain pgvector in one line',
      ]);
      await admin.page.getByRole('link', { name: 'Queues' }).waitFor();
      await admin.page.getByRole('link', { name: 'API docs' }).waitFor();
      await saveScreenshot(admin.page, 'admin');
      expect(await seriousAccessibilityViolations(admin.page)).to.deep.equal([]);
      admin.problems.assertClean('admin');
      await admin.context.close();
    });

    it('a user sees no Admin link, and the new suggestions in an empty chat; one click sends one', async () => {
      const frank = await browser.newUser(stack.url);
      await signUp(frank.page, newCredentials('frank'));
      await frank.page.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(await frank.page.getByRole('link', { name: 'Admin' }).count()).to.equal(0);

      const suggestions = frank.page.getByRole('group', { name: 'Suggestions' });
      const offered = await suggestions.getByRole('button').allTextContents();
      expect(offered.map((text) => text.trim())).to.deep.equal([
        'Plan a trip to Lisbon',
        'Explain pgvector in one line',
      ]);
      await suggestions.getByRole('button', { name: 'Plan a trip to Lisbon' }).click();
      await messagesLog(frank.page)
        .getByRole('article', { name: 'You' })
        .filter({ hasText: 'Plan a trip to Lisbon' })
        .waitFor();
      frank.problems.assertClean('suggestions');
      await frank.context.close();
    });
  });
});
