import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

const COOKIE = 'parley_refresh';
const REFRESH_TTL_SECONDS = 30 * 24 * 3_600;

interface CookieResponse {
  status: number;
  headers: Headers;
  /** The JSON as text (to look for a token anywhere in it) and parsed. */
  text: string;
  body: any;
  /** The parley_refresh Set-Cookie, parsed, when the answer sets one. */
  cookie?: { value: string; attributes: Map<string, string> };
}

function parseSetCookie(headers: Headers): CookieResponse['cookie'] {
  const line = headers.getSetCookie().find((header) => header.startsWith(`${COOKIE}=`));
  if (!line) return undefined;
  const [pair, ...rest] = line.split('; ');
  const attributes = new Map(
    rest.map((attribute) => {
      const [name, value = ''] = attribute.split('=');
      return [name!.toLowerCase(), value] as const;
    }),
  );
  return { value: pair!.slice(COOKIE.length + 1), attributes };
}

describe('browser sessions: the refresh token in an httpOnly cookie', () => {
  let edge: TestEdge;
  let host: string;

  /** A POST as a browser page of this site would send it (same Origin), with the cookie if given. */
  async function post(
    path: string,
    body: unknown,
    options: { cookie?: string; origin?: string | null; headers?: Record<string, string> } = {},
  ): Promise<CookieResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
    if (options.origin !== null) headers.origin = options.origin ?? edge.url;
    if (options.cookie !== undefined) headers.cookie = `${COOKIE}=${options.cookie}`;
    const response = await fetch(`${edge.url}/api/v1/auth${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: text ? JSON.parse(text) : undefined,
      cookie: parseSetCookie(response.headers),
    };
  }

  const me = async (accessToken: string) =>
    (await fetch(`${edge.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } }))
      .status;

  const account = () => ({
    email: `cookie-${randomBytes(5).toString('hex')}@example.com`,
    password: 'a long enough password',
  });

  /** Signs up with a cookie session; returns the account and the cookie's token. */
  async function cookieSession() {
    const credentials = account();
    const signup = await post('/signup', { ...credentials, session: 'cookie' });
    expect(signup.status).to.equal(201);
    return { credentials, signup, token: signup.cookie!.value };
  }

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('authcookie'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('authcookie'),
      // Behind a TLS-terminating proxy: X-Forwarded-Proto says whether the browser used HTTPS.
      TRUST_PROXY: 'true',
      // How users reach it: a page there counts as this site even where a proxy rewrites Host.
      PUBLIC_URL: 'https://chat.example.com/',
    });
    host = new URL(edge.url).host;
  });
  after(() => edge?.stop());

  it('signup and login set the cookie (HttpOnly, SameSite=Strict, auth path, Max-Age) and keep the token out of the JSON', async () => {
    const { credentials, signup, token } = await cookieSession();
    expect(Object.keys(signup.body).sort()).to.deep.equal(['accessToken', 'expiresIn', 'user']);
    expect(token).to.match(/^[\w-]{40,}$/);
    expect(signup.text).not.to.include(token);
    const attributes = signup.cookie!.attributes;
    expect(attributes.has('httponly')).to.equal(true);
    expect(attributes.get('samesite')).to.equal('Strict');
    expect(attributes.get('path')).to.equal('/api/v1/auth');
    expect(attributes.get('max-age')).to.equal(String(REFRESH_TTL_SECONDS));
    expect(attributes.has('secure'), 'plain HTTP: no Secure').to.equal(false);
    expect(signup.headers.get('cache-control')).to.equal('no-store');
    expect(await me(signup.body.accessToken)).to.equal(200);

    const login = await post('/login', { ...credentials, session: 'cookie' });
    expect(login.status).to.equal(200);
    expect(Object.keys(login.body).sort()).to.deep.equal(['accessToken', 'expiresIn', 'user']);
    expect(login.cookie!.value).to.be.a('string').and.not.equal(token);
    expect(login.text).not.to.include(login.cookie!.value);
    expect(login.cookie!.attributes.has('httponly')).to.equal(true);
  });

  it('refresh with {} rotates the cookie; a rotated cookie coming back revokes the whole family', async () => {
    const { signup, token: first } = await cookieSession();
    const rotated = await post('/refresh', {}, { cookie: first });
    expect(rotated.status).to.equal(200);
    expect(Object.keys(rotated.body).sort()).to.deep.equal(['accessToken', 'expiresIn', 'user']);
    expect(rotated.body.user.id).to.equal(signup.body.user.id);
    const second = rotated.cookie!.value;
    expect(second).to.be.a('string').and.not.equal(first);
    expect(rotated.text).not.to.include(second);
    expect(rotated.cookie!.attributes.get('max-age')).to.equal(String(REFRESH_TTL_SECONDS));
    expect(await me(rotated.body.accessToken)).to.equal(200);

    // The spent cookie again (stolen, replayed): refused, the cookie cleared, the family revoked.
    const reuse = await post('/refresh', {}, { cookie: first });
    expect(reuse.status).to.equal(401);
    expect(reuse.body.code).to.equal('refresh_token_reused');
    expect(reuse.cookie!.value).to.equal('');
    expect(reuse.cookie!.attributes.get('max-age')).to.equal('0');
    const successor = await post('/refresh', {}, { cookie: second });
    expect(successor.status).to.equal(401);
    expect(successor.body.code).to.equal('refresh_token_revoked');
  });

  it('refresh without a usable cookie is a 401 that clears it', async () => {
    for (const cookie of [undefined, 'not-a-token-we-issued', 'x'.repeat(500)]) {
      const refused = await post('/refresh', {}, { cookie });
      expect(refused.status, String(cookie)).to.equal(401);
      expect(refused.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(refused.body.code).to.equal('refresh_token_invalid');
      expect(refused.cookie!.attributes.get('max-age')).to.equal('0');
    }
  });

  it('logout with {} revokes the cookie’s token and clears the cookie', async () => {
    const { token } = await cookieSession();
    const logout = await post('/logout', {}, { cookie: token });
    expect(logout.status).to.equal(204);
    expect(logout.cookie!.value).to.equal('');
    expect(logout.cookie!.attributes.get('max-age')).to.equal('0');
    expect(logout.cookie!.attributes.get('path')).to.equal('/api/v1/auth');
    const after = await post('/refresh', {}, { cookie: token });
    expect(after.status).to.equal(401);
    expect(after.body.code).to.equal('refresh_token_revoked');
    // Without a cookie there is nothing to revoke: still 204.
    expect((await post('/logout', {})).status).to.equal(204);
  });

  it('marks the cookie Secure when the browser came over HTTPS (X-Forwarded-Proto with TRUST_PROXY)', async () => {
    const https = { 'x-forwarded-proto': 'https', 'x-forwarded-host': host };
    const signup = await post('/signup', { ...account(), session: 'cookie' }, { headers: https });
    expect(signup.status).to.equal(201);
    expect(signup.cookie!.attributes.has('secure')).to.equal(true);
    expect(signup.headers.get('strict-transport-security')).to.match(/max-age=/);
    const rotated = await post('/refresh', {}, { cookie: signup.cookie!.value, headers: https });
    expect(rotated.status).to.equal(200);
    expect(rotated.cookie!.attributes.has('secure')).to.equal(true);
    const logout = await post('/logout', {}, { cookie: rotated.cookie!.value, headers: https });
    expect(logout.cookie!.attributes.has('secure')).to.equal(true);
  });

  it('refuses cookie requests from pages of other origins, and leaves the token as it was', async () => {
    const { credentials, token } = await cookieSession();
    for (const origin of [
      'https://evil.example',
      'null',
      `http://${host}.evil.example`,
      'http://chat.example.com',
    ]) {
      const refresh = await post('/refresh', {}, { cookie: token, origin });
      expect(refresh.status, origin).to.equal(403);
      expect(refresh.body.code).to.equal('forbidden');
      expect(refresh.cookie, 'a refused request sets no cookie').to.equal(undefined);
      expect((await post('/logout', {}, { cookie: token, origin })).status, origin).to.equal(403);
      expect(
        (await post('/login', { ...credentials, session: 'cookie' }, { origin })).status,
        origin,
      ).to.equal(403);
    }
    expect(
      (await post('/signup', { ...account(), session: 'cookie' }, { origin: 'https://evil.example' })).status,
    ).to.equal(403);
    // Nothing above spent or revoked the token: this site's page still refreshes with it.
    const own = await post('/refresh', {}, { cookie: token });
    expect(own.status).to.equal(200);
    const viaPublicUrl = await post(
      '/refresh',
      {},
      { cookie: own.cookie!.value, origin: 'https://chat.example.com' },
    );
    expect(viaPublicUrl.status).to.equal(200);
    // Programs send no Origin; they may use the cookie variant as well.
    const program = await post('/refresh', {}, { cookie: viaPublicUrl.cookie!.value, origin: null });
    expect(program.status).to.equal(200);
  });

  it('keeps the JSON-body variant for API clients as it was', async () => {
    const signup = await post('/signup', account(), { origin: null });
    expect(signup.status).to.equal(201);
    expect(signup.body.refreshToken).to.be.a('string');
    expect(signup.cookie).to.equal(undefined);
    const rotated = await post('/refresh', { refreshToken: signup.body.refreshToken }, { origin: null });
    expect(rotated.status).to.equal(200);
    expect(rotated.body.refreshToken).to.be.a('string').and.not.equal(signup.body.refreshToken);
    expect(rotated.cookie).to.equal(undefined);
    // A body token wins over a cookie, and the cookie is left alone.
    const { token } = await cookieSession();
    const both = await post('/refresh', { refreshToken: rotated.body.refreshToken }, { cookie: token });
    expect(both.status).to.equal(200);
    expect(both.body.refreshToken).to.be.a('string');
    expect(both.cookie).to.equal(undefined);
    expect((await post('/refresh', {}, { cookie: token })).status).to.equal(200);
    expect((await post('/logout', { refreshToken: both.body.refreshToken })).status).to.equal(204);
    expect((await post('/signup', { ...account(), session: 'header' })).status).to.equal(400);
  });
});
