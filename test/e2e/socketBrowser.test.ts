import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { ApiClient } from '../support/ApiClient.ts';
import { launchChromium } from '../support/browser.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

/** What a page reports after trying to open a socket to the edge. */
interface PageOutcome {
  loaded: boolean;
  connected: boolean;
  transport?: string;
  ack?: unknown[];
  error?: string;
}

/** A page that loads the client bundle from the edge. */
const pageHtml = (edgeUrl: string) =>
  `<!doctype html><title>socket test</title><script src="${edgeUrl}/socket.io/socket.io.min.js"></script>`;

/**
 * Opens `pageUrl` (served by whatever answers there), connects with socket.io-client's default
 * options and acks a ping.
 */
async function openPage(
  page: Page,
  pageUrl: string,
  edgeUrl: string,
  token: string,
  transports?: string[],
): Promise<PageOutcome> {
  await page.goto(pageUrl);
  return page.evaluate(
    ({ edgeUrl, token, transports }) =>
      new Promise<PageOutcome>((resolve) => {
        type ClientSocket = {
          once: (event: string, listener: (arg: { message: string }) => void) => void;
          timeout: (ms: number) => { emit: (...args: unknown[]) => void };
          io: { engine: { transport: { name: string } } };
          close: () => void;
        };
        const io = (globalThis as unknown as { io?: (url: string, options: object) => ClientSocket }).io;
        if (typeof io !== 'function') return resolve({ loaded: false, connected: false });
        const socket = io(edgeUrl, {
          reconnection: false,
          auth: { token },
          ...(transports && { transports }),
        });
        socket.once('connect_error', (error) =>
          resolve({ loaded: true, connected: false, error: error.message }),
        );
        socket.once('connect', () => {
          // The timeout's error comes first, then the ack's own (error, result).
          socket.timeout(10_000).emit('system:ping', { nonce: 'browser' }, (...ack: unknown[]) => {
            resolve({ loaded: true, connected: true, transport: socket.io.engine.transport.name, ack });
            socket.close();
          });
        });
      }),
    { edgeUrl, token, transports },
  );
}

describe('sockets from a real browser (headless Chromium)', function () {
  // Launching Chromium takes a moment on a busy machine; waits are on events, this is the cap.
  this.timeout(60_000);
  let browser: Browser;
  let edge: TestEdge;
  let token: string;
  let port: string;

  before(async () => {
    browser = await launchChromium();
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('browser'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('browser'),
    });
    port = new URL(edge.url).port;
    token = (await new ApiClient(edge.url).signup('browser')).accessToken;
  });
  after(async () => {
    await browser?.close();
    await edge?.stop();
  });

  it('loads /socket.io/socket.io.min.js from the edge and talks over the default transports', async () => {
    const page = await browser.newPage();
    const failures: string[] = [];
    page.on('requestfailed', (request) => failures.push(`${request.url()}: ${request.failure()?.errorText}`));
    const bundle = page.waitForResponse((response) => response.url().endsWith('/socket.io/socket.io.min.js'));

    // The page is the test's, at the edge's own origin (Chromium asks the test instead of the edge).
    const pageUrl = `http://127.0.0.1:${port}/socket-test`;
    await page.route(pageUrl, (route) =>
      route.fulfill({ contentType: 'text/html', body: pageHtml(edge.url) }),
    );
    const outcome = await openPage(page, pageUrl, edge.url, token);
    const response = await bundle;
    expect(response.status()).to.equal(200);
    expect(response.headers()['content-type']).to.match(/^application\/javascript/);
    expect(failures, 'no request failed (e.g. ERR_CONTENT_DECODING_FAILED)').to.deep.equal([]);
    expect(outcome).to.include({ loaded: true, connected: true });
    expect(outcome.ack?.slice(0, 2)).to.deep.equal([null, null]);
    expect(outcome.ack?.[2]).to.have.property('jobId');
    await page.close();
  });

  it('refuses a socket from a page of another origin that CORS_ORIGINS does not list', async () => {
    const page = await browser.newPage();
    // Another port is another origin; a real server on this machine, so Chromium lets the page
    // reach the loopback edge at all (a page it deems remote would be stopped before the edge).
    const elsewhere = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'text/html' }).end(pageHtml(edge.url)),
    );
    await new Promise<void>((listening) => elsewhere.listen(0, '127.0.0.1', listening));
    const pageUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/elsewhere`;
    // WebSocket only: CORS never applies to it (long-polling is already stopped by CORS, unread).
    const outcome = await openPage(page, pageUrl, edge.url, token, ['websocket']).finally(() =>
      elsewhere.close(),
    );
    expect(outcome.loaded).to.equal(true);
    expect(outcome.connected).to.equal(false);
    expect(outcome.error).to.match(/error/);
    await page.close();
  });
});
