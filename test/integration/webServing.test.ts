import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { compressFiles } from '../../scripts/buildWeb.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

/** The policy the contract gives the web app (written out, not imported: the test pins it). */
const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const INDEX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley</title>
<script type="module" src="/assets/index-Bx7k2Q.js"></script>
<link rel="stylesheet" href="/assets/index-Qz81ab.css"></head>
<body><div id="app"></div></body></html>
`;
// Long and repetitive enough that compression pays, as a real bundle does.
const SCRIPT = `${'export const greeting = "hello from the fixture bundle";\n'.repeat(60)}`;
const STYLE = `${'body { color: CanvasText; background: Canvas; }\n'.repeat(30)}`;

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * One request with node:http, path sent exactly as given (fetch would normalise `..` away and
 * decompress the body, hiding what these tests look at).
 */
function raw(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { hostname, port, path, method: options.method ?? 'GET', headers: options.headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const json = (response: RawResponse) => JSON.parse(response.body.toString('utf8'));

describe('the web app served by the edge', () => {
  let dist: string;
  let edge: TestEdge;

  before(async () => {
    dist = await mkdtemp(join(tmpdir(), 'parley-web-dist-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(join(dist, 'index.html'), INDEX_HTML);
    await writeFile(join(dist, 'assets', 'index-Bx7k2Q.js'), SCRIPT);
    await writeFile(join(dist, 'assets', 'index-Qz81ab.css'), STYLE);
    await writeFile(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(dist, '.secret'), 'not for anyone');
    // The same compression step `npm run build:web` runs after Vite.
    await compressFiles(dist);
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('web'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('web'),
      WEB_DIST_DIR: dist,
    });
  });
  after(async () => {
    await edge?.stop();
    await rm(dist, { recursive: true, force: true });
  });

  it('serves index.html at / with the app’s CSP, never cached without asking', async () => {
    const page = await raw(edge.url, '/');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.body.toString('utf8')).to.equal(INDEX_HTML);
    expect(page.headers['cache-control']).to.equal('no-cache');
    expect(page.headers['content-security-policy']).to.equal(APP_CSP);
    expect(page.headers['x-content-type-options']).to.equal('nosniff');
    expect(page.headers['x-frame-options']).to.equal('DENY');

    // Revalidation: the same ETag back means nothing to send.
    const etag = page.headers.etag as string;
    expect(etag).to.be.a('string');
    const again = await raw(edge.url, '/', { headers: { 'if-none-match': etag } });
    expect(again.status).to.equal(304);
    expect(again.body.length).to.equal(0);
  });

  it('answers every client-side route with index.html', async () => {
    for (const path of ['/c/abc', '/signin', '/documents', '/admin', '/verify-email?token=abc.def']) {
      const page = await raw(edge.url, path);
      expect(page.status, path).to.equal(200);
      expect(page.body.toString('utf8'), path).to.equal(INDEX_HTML);
      expect(page.headers['content-security-policy'], path).to.equal(APP_CSP);
    }
  });

  it('answers HEAD like GET without a body, and other methods not at all', async () => {
    const head = await raw(edge.url, '/c/abc', { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.headers['content-length']).to.equal(String(Buffer.byteLength(INDEX_HTML)));
    expect(head.body.length).to.equal(0);
    const post = await raw(edge.url, '/c/abc', { method: 'POST' });
    expect(post.status).to.equal(404);
    expect(post.headers['content-type']).to.match(/^application\/problem\+json/);
  });

  it('serves hashed assets immutable, brotli or gzip as the client accepts', async () => {
    const path = '/assets/index-Bx7k2Q.js';
    const brotli = await raw(edge.url, path, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(brotli.status).to.equal(200);
    expect(brotli.headers['content-type']).to.equal('text/javascript; charset=utf-8');
    expect(brotli.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
    expect(brotli.headers['content-encoding']).to.equal('br');
    expect(brotli.headers.vary).to.match(/Accept-Encoding/i);
    expect(brotli.body.length).to.be.lessThan(Buffer.byteLength(SCRIPT) / 4);
    expect(brotliDecompressSync(brotli.body).toString('utf8')).to.equal(SCRIPT);

    const gzipped = await raw(edge.url, path, { headers: { 'accept-encoding': 'br;q=0, gzip' } });
    expect(gzipped.headers['content-encoding']).to.equal('gzip');
    expect(gunzipSync(gzipped.body).toString('utf8')).to.equal(SCRIPT);

    const plain = await raw(edge.url, path);
    expect(plain.headers['content-encoding']).to.equal(undefined);
    expect(plain.body.toString('utf8')).to.equal(SCRIPT);

    const style = await raw(edge.url, '/assets/index-Qz81ab.css', { headers: { 'accept-encoding': 'br' } });
    expect(style.headers['content-type']).to.equal('text/css; charset=utf-8');
    expect(brotliDecompressSync(style.body).toString('utf8')).to.equal(STYLE);

    // Each encoding is its own representation for caches.
    expect(brotli.headers.etag).to.not.equal(plain.headers.etag);
  });

  it('serves other files of the build, and 404s a missing file rather than the page', async () => {
    const icon = await raw(edge.url, '/favicon.svg');
    expect(icon.status).to.equal(200);
    expect(icon.headers['content-type']).to.equal('image/svg+xml');
    expect(icon.headers['cache-control']).to.equal('no-cache');

    for (const path of ['/assets/index-missing.js', '/robots.txt', '/.secret']) {
      const missing = await raw(edge.url, path);
      expect(missing.status, path).to.equal(404);
      expect(missing.headers['content-type'], path).to.match(/^application\/problem\+json/);
      expect(missing.body.toString('utf8'), path).not.to.include('not for anyone');
    }
  });

  it('leaves the API and the system paths as they are', async () => {
    const nope = await raw(edge.url, '/api/v1/nope');
    expect(nope.status).to.equal(404);
    expect(nope.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(json(nope).code).to.equal('not_found');
    expect(nope.headers['content-security-policy']).to.equal("default-src 'none'; frame-ancestors 'none'");
    expect((await raw(edge.url, '/api')).status).to.equal(404);

    const health = await raw(edge.url, '/health');
    expect(health.status).to.equal(200);
    expect(health.headers['content-type']).to.match(/^application\/json/);

    const docs = await raw(edge.url, '/docs');
    expect(docs.status).to.equal(200);
    expect(docs.body.toString('utf8')).to.include('swagger-ui');
    expect(docs.headers['content-security-policy']).to.include("'unsafe-inline'");
    expect(json(await raw(edge.url, '/openapi.json')).openapi).to.equal('3.1.0');

    const client = await raw(edge.url, '/socket.io/socket.io.js');
    expect(client.status).to.equal(200);
    expect(client.body.toString('utf8')).to.include('io');
    expect(client.body.toString('utf8')).not.to.equal(INDEX_HTML);

    const queues = await raw(edge.url, '/admin/queues');
    expect(queues.status).to.equal(401);
    expect(json(queues).code).to.equal('unauthorized');

    const metrics = await raw(edge.url, '/metrics');
    expect(metrics.status).to.equal(200);
    // The app's requests (earlier tests) are timed under two labels, not one per file or page.
    expect(metrics.body.toString('utf8')).to.include('route="/assets/*"');
    expect(metrics.body.toString('utf8')).to.include('route="/ (web app)"');
  });

  it('refuses paths that climb out of the build folder', async () => {
    for (const path of [
      '/../../etc/passwd',
      '/assets/../../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2f..%2fetc%2fpasswd',
      '/..%5c..%5cetc%5cpasswd',
      '/c/%00',
      '/%E0%A4%A',
    ]) {
      const refused = await raw(edge.url, path);
      expect(refused.status, path).to.equal(400);
      expect(refused.headers['content-type'], path).to.match(/^application\/problem\+json/);
      expect(refused.body.toString('utf8'), path).not.to.match(/root:|<!doctype/i);
    }
  });

  describe('before the app is built', () => {
    let bare: TestEdge;

    before(async () => {
      bare = await startInProcessEdge({
        DATABASE_URL: await createTestDatabase('webmissing'),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: uniqueQueuePrefix('webmissing'),
        WEB_DIST_DIR: join(dist, 'not-built-yet'),
      });
    });
    after(() => bare?.stop());

    it('starts, answers pages with 503 saying how to build, and serves the API', async () => {
      for (const path of ['/', '/c/abc']) {
        const page = await raw(bare.url, path);
        expect(page.status, path).to.equal(503);
        expect(page.headers['content-type'], path).to.match(/^application\/problem\+json/);
        const problem = json(page);
        expect(problem.code).to.equal('web_app_unavailable');
        expect(problem.detail).to.include('npm run build:web');
        // The operator's folder stays in the log.
        expect(page.body.toString('utf8')).not.to.include('not-built-yet');
      }
      expect((await raw(bare.url, '/health')).status).to.equal(200);
      const session = await new ApiClient(bare.url).signup('webmissing');
      expect(session.accessToken).to.be.a('string');
    });
  });

  describe('on an API-only edge (WEB_ENABLED=false)', () => {
    let apiOnly: TestEdge;

    before(async () => {
      apiOnly = await startInProcessEdge({
        DATABASE_URL: await createTestDatabase('webdisabled'),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: uniqueQueuePrefix('webdisabled'),
        WEB_ENABLED: 'false',
        WEB_DIST_DIR: dist,
      });
    });
    after(() => apiOnly?.stop());

    it('serves no page, not even a built one, and keeps the API’s policy everywhere', async () => {
      for (const path of ['/', '/c/abc', '/assets/index-Bx7k2Q.js']) {
        const response = await raw(apiOnly.url, path);
        expect(response.status, path).to.equal(404);
        expect(json(response).code, path).to.equal('not_found');
        expect(response.headers['content-security-policy'], path).to.equal(
          "default-src 'none'; frame-ancestors 'none'",
        );
      }
      expect((await raw(apiOnly.url, '/health')).status).to.equal(200);
    });
  });
});
