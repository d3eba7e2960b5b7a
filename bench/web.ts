/**
 * Parley Web budgets, measured in headless Chromium against the real stack (the built app served
 * by an edge, a worker process, Postgres, Redis; the Groq stub instead of Groq). Prints figures
 * next to their budgets, asserts nothing.
 *
 *   node bench/web.ts [--loads 20] [--tps 500] [--tokens 1500] [--rounds 3] [--messages 1000] [--scrolls 3]
 *
 * - Initial JavaScript: every script the signed-in page loads until the app is on screen, each
 *   gzip-compressed here at level 9 (what the edge's precompressed .gz files hold). Budget ≤ 120 KB.
 * - First render: navigation start → the signed-in shell (the "Conversations" navigation) in the
 *   DOM, measured in the page (performance.now() from a MutationObserver an init script installs),
 *   over `--loads` reloads with the HTTP cache off (a first visit) and on (a return visit).
 *   p50/p95, budget ≤ 1 s.
 * - Long tasks: PerformanceObserver 'longtask' entries (main-thread tasks > 50 ms) while three
 *   answers of `--tokens` Markdown tokens stream at `--tps` tokens/s into the open conversation,
 *   `--rounds` times. Budget: not one.
 * - A conversation of `--messages` messages (stored directly): time to the newest message on
 *   screen, articles and DOM nodes rendered, and how scrolling to the top loads older pages.
 *   Budget: not all at once.
 *
 * Talks to 127.0.0.1 only; starts and stops everything it uses (a throwaway database, a private
 * queue prefix in Redis, the edge, a worker process, Chromium).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { User } from '../src/db/entities/User.ts';
import { ChatClient } from '../test/support/ChatClient.ts';
import { createConversation } from '../test/support/factories.ts';
import { dropTestDatabases, testRedisClient } from '../test/support/services.ts';
import { removeTestKeys } from '../test/support/testKeys.ts';
import { answers, messagesLog, send, signUp, until } from '../test/support/webApp.ts';
import { WebBrowser } from '../test/support/webBrowser.ts';
import { newCredentials, startWebStack, type WebStack } from '../test/support/webStack.ts';
import { Cleanups, integerFlag, machineFacts } from './support/cleanup.ts';
import { fixed, percentile, sorted } from './support/stats.ts';

const { values: flags } = parseArgs({
  options: {
    loads: { type: 'string', default: '20' },
    tps: { type: 'string', default: '500' },
    tokens: { type: 'string', default: '1500' },
    messages: { type: 'string', default: '1000' },
    scrolls: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
  },
});
const LOADS = integerFlag('loads', flags.loads, 1, 1_000);
const TOKENS_PER_SECOND = integerFlag('tps', flags.tps, 1, 100_000);
const ANSWER_TOKENS = integerFlag('tokens', flags.tokens, 10, 100_000);
const MESSAGES = integerFlag('messages', flags.messages, 2, 100_000);
const SCROLLS = integerFlag('scrolls', flags.scrolls, 1, 100);
const ROUNDS = integerFlag('rounds', flags.rounds, 1, 100);

const BUDGET = { initialJsKb: 120, firstRenderMs: 1_000, longTasks: 0 };

/**
 * Installed before any page script: when the signed-in shell first appears, and every long task.
 * Init scripts come through the DevTools protocol, which the app's CSP does not govern.
 */
const PAGE_PROBES = `
  window.__bench = { shellAt: null, longTasks: [], endedAt: [] };
  // When an answer's article turns complete (the long-task report says which tasks sit there).
  new MutationObserver((records) => {
    for (const record of records)
      if (record.target.getAttribute('data-status') === 'complete' && record.oldValue !== 'complete')
        window.__bench.endedAt.push(performance.now());
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-status'], attributeOldValue: true });
  new MutationObserver((_, observer) => {
    if (document.querySelector('nav[aria-label="Conversations"]')) {
      window.__bench.shellAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, childList: true });
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        window.__bench.longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {}
`;

interface Probes {
  shellAt: number | null;
  longTasks: { start: number; duration: number }[];
  endedAt: number[];
}
const probes = (page: Page) => page.evaluate('window.__bench') as Promise<Probes>;

/** Markdown as a model writes it: paragraphs, a list, a code block, in small tokens. */
function markdownTokens(count: number, seed: number): string[] {
  const words = ['stream', 'relay', 'token', 'answer', 'worker', 'queue', 'edge', 'replay', 'cursor'];
  const tokens: string[] = [];
  for (let index = 0; tokens.length < count; index++) {
    const block = index % 6;
    if (block === 2) tokens.push('\n\n- ', 'first ', 'point', '\n- ', 'second ', 'point', '\n\n');
    else if (block === 4)
      tokens.push('```ts\n', `const value${index} = `, `${seed + index};\n`, 'out(value);\n', '```\n\n');
    else {
      for (let word = 0; word < 24; word++) tokens.push(`${words[(seed + index + word) % words.length]} `);
      tokens.push('**bold**', '.\n\n');
    }
  }
  return tokens.slice(0, count);
}

/** Like `until`, but gives up after `ms` (a benchmark reports what it saw instead of hanging). */
async function within<T>(ms: number, read: () => Promise<T>, accept: (value: T) => boolean) {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (performance.now() > deadline) return undefined;
    await new Promise((next) => setTimeout(next, 25));
  }
}

const out = (text = '') => process.stdout.write(`${text}\n`);
const kb = (bytes: number) => `${fixed(bytes / 1024, 1)} KB`;
const verdict = (ok: boolean) => (ok ? 'within budget' : 'OVER BUDGET');

const cleanups = new Cleanups('web');

async function main() {
  out(`bench:web on ${machineFacts()}`);
  const started = performance.now();
  const stack = await startWebStack('benchweb', {
    stub: { ttftMs: 20, tokensPerSecond: TOKENS_PER_SECOND },
    // The token batching a deployment has (STREAM_FLUSH_MS's default), not the tests' faster one.
    env: { STREAM_FLUSH_MS: '' },
  });
  cleanups.add('database', () => dropTestDatabases());
  cleanups.add('redis keys', () => removeTestKeys(testRedisClient));
  cleanups.add('stack', () => stack.stop());
  const browser = await WebBrowser.launch();
  cleanups.add('browser', () => browser.close());
  out(`stack and Chromium up in ${fixed((performance.now() - started) / 1000)} s\n`);

  const user = await browser.newUser(stack.url);
  await user.context.addInitScript(PAGE_PROBES);
  const credentials = newCredentials('bench');
  await signUp(user.page, credentials);
  // One answered turn, so the signed-in app opens on a conversation.
  await send(user.page, 'Hello there');
  await until(
    () => answers(user.page).last().getAttribute('data-status'),
    (status) => status === 'complete',
  );

  await initialJavaScript(user.page);
  await firstRender(user.page);
  await longTasks(stack, user.page, credentials);
  await longConversation(stack, user.page, credentials.email);
  user.problems.assertClean('bench');
}

async function initialJavaScript(page: Page) {
  const scripts = new Map<string, Buffer>();
  const styles = new Map<string, Buffer>();
  const collect = async (response: import('playwright-core').Response) => {
    const type = response.request().resourceType();
    if (type === 'script') scripts.set(new URL(response.url()).pathname, await response.body());
    if (type === 'stylesheet') styles.set(new URL(response.url()).pathname, await response.body());
  };
  const pending: Promise<void>[] = [];
  const listener = (response: import('playwright-core').Response) => void pending.push(collect(response));
  page.on('response', listener);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await page.reload();
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
  await page.waitForLoadState('load');
  page.off('response', listener);
  await Promise.all(pending);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  await cdp.detach();

  let raw = 0;
  let gzipped = 0;
  out('Initial JavaScript (scripts loaded until the signed-in app is on screen):');
  for (const [path, body] of scripts) {
    const size = gzipSync(body, { level: 9 }).length;
    raw += body.length;
    gzipped += size;
    out(`  ${path}  ${kb(body.length)} raw, ${kb(size)} gzip`);
  }
  out(
    `  total ${scripts.size} file(s): ${kb(raw)} raw, ${kb(gzipped)} gzip  (budget ≤ ${BUDGET.initialJsKb} KB gzip: ${verdict(gzipped <= BUDGET.initialJsKb * 1024)})`,
  );
  const css = [...styles.values()];
  const cssGzip = css.reduce((sum, body) => sum + gzipSync(body, { level: 9 }).length, 0);
  out(`  (CSS besides, not in the budget: ${css.length} file(s), ${kb(cssGzip)} gzip)\n`);
}

async function firstRender(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  const lines: string[] = [];
  for (const [label, cacheDisabled] of [
    ['first visit (HTTP cache off)', true],
    ['return visit (HTTP cache on)', false],
  ] as const) {
    await cdp.send('Network.setCacheDisabled', { cacheDisabled });
    const times: number[] = [];
    for (let load = 0; load < LOADS; load++) {
      await page.reload();
      const shellAt = await until(
        async () => (await probes(page)).shellAt,
        (at) => at !== null,
      );
      times.push(shellAt!);
      // The next reload starts from a settled page (its socket and first requests done).
      await page.waitForLoadState('load');
    }
    const values = sorted(times);
    const p50 = percentile(values, 50);
    const p95 = percentile(values, 95);
    lines.push(
      `  ${label}: p50 ${fixed(p50, 0)} ms, p95 ${fixed(p95, 0)} ms, max ${fixed(values.at(-1)!, 0)} ms over ${LOADS} loads  (budget ≤ ${BUDGET.firstRenderMs} ms: ${verdict(p95 <= BUDGET.firstRenderMs)})`,
    );
  }
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  await cdp.detach();
  out('First render of the signed-in app (navigation → the shell in the DOM):');
  out(`${lines.join('\n')}\n`);
}

async function longTasks(stack: WebStack, page: Page, credentials: { email: string; password: string }) {
  const conversationId = new URL(page.url()).pathname.split('/')[2]!;
  const seeds = [1, 2, 3];
  stack.stub.configure({
    answer: (body) => {
      const question = JSON.stringify(body.messages.at(-1)?.content ?? '');
      return markdownTokens(ANSWER_TOKENS, seeds.find((seed) => question.includes(`stream ${seed}`)) ?? 0);
    },
  });
  // Another tab of the same user sends the three questions; the page shows all three answers.
  const socket = await ChatClient.connect(stack.edge.url, await stack.tokenFor(credentials));
  const closeSocket = cleanups.add('bench socket', () => socket.close());
  out(
    `Long tasks while 3 answers of ${ANSWER_TOKENS} Markdown tokens stream at ${TOKENS_PER_SECOND} tok/s into one page (${ROUNDS} rounds):`,
  );
  let total = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    await page.reload();
    await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
    await page.waitForLoadState('load');
    // The page already shows the earlier rounds' answers (up to a page of them).
    await answers(page).first().waitFor();
    const onPage = await messagesLog(page).getByRole('article').count();
    // Only the tasks of the streaming window count.
    const windowStart = (await page.evaluate('performance.now()')) as number;
    const started = performance.now();
    const turns = await Promise.all(
      seeds.map((seed) => socket.send({ conversationId, content: `Please stream ${seed}` })),
    );
    for (const turn of turns) await socket.untilEnded(turn.assistantMessageId);
    const streamedMs = performance.now() - started;
    for (const turn of turns) {
      await until(
        () =>
          messagesLog(page)
            .locator(`article[data-message-id="${turn.assistantMessageId}"]`)
            .getAttribute('data-status'),
        (status) => status === 'complete',
      );
    }
    const windowEnd = (await page.evaluate('performance.now()')) as number;

    const seen = await probes(page);
    const tasks = seen.longTasks.filter((task) => task.start >= windowStart && task.start <= windowEnd);
    total += tasks.length;
    // A task that ends within 100 ms of an answer turning complete is that answer's final render.
    const atEnd = tasks.filter((task) =>
      seen.endedAt.some((at) => at >= task.start - 100 && at <= task.start + task.duration + 100),
    );
    const durations = tasks.map((task) => fixed(task.duration, 0)).join(', ') || '–';
    out(
      `  round ${round} (${onPage} messages on the page before): ${tasks.length} task(s) over 50 ms (${durations} ms; ${atEnd.length} at an answer's end, ${tasks.length - atEnd.length} while streaming), streamed in ${fixed(streamedMs / 1000)} s, ${fixed(windowEnd - windowStart, 0)} ms observed`,
    );
  }
  await closeSocket();
  out(
    `  ${total} task(s) over 50 ms in ${ROUNDS} rounds  (budget ${BUDGET.longTasks}: ${verdict(total <= BUDGET.longTasks)}; a machine busy with other work stretches tasks: read with the load average)\n`,
  );
}

async function longConversation(stack: WebStack, page: Page, email: string) {
  const em = stack.edge.runtime.orm.em.fork();
  const owner = await em.findOneOrFail(User, { email });
  const turns = Math.ceil(MESSAGES / 2);
  const seeding = performance.now();
  const { conversation, messages } = await createConversation(em, owner, {
    turns: Array.from({ length: turns }, (_, index) => `Question ${index + 1}: how does the relay work?`),
    answers: Array.from({ length: turns }, (_, index) => markdownTokens(120, index).join('')),
    lastAnswer: 'complete',
    title: `${turns * 2} messages`,
  });
  const seededMs = performance.now() - seeding;
  const newest = messages.at(-1)!;

  const pages: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes(`/conversations/${conversation.id}/messages`)) pages.push(request.url());
  });
  const opening = performance.now();
  await page.goto(`/c/${conversation.id}`);
  await messagesLog(page).locator(`article[data-message-id="${newest.id}"]`).waitFor();
  const openMs = performance.now() - opening;
  const count = () => messagesLog(page).getByRole('article').count();
  const domNodes = () => page.evaluate('document.getElementsByTagName("*").length') as Promise<number>;
  const shown = [await count()];
  const nodes = await domNodes();
  const pagesAtOpen = pages.length;

  // Scroll the messages' scrolling box to the top, and wait for older messages to be added.
  for (let scroll = 0; scroll < SCROLLS && shown.at(-1)! < messages.length; scroll++) {
    await messagesLog(page).evaluate((log) => {
      type Box = { scrollTop: number; scrollHeight: number; clientHeight: number; parentElement: Box | null };
      let box: Box | null = log as unknown as Box;
      while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
      if (box) box.scrollTop = 0;
    });
    const before = shown.at(-1)!;
    const after = await within(10_000, count, (now) => now > before);
    if (after === undefined) break; // nothing older came within 10 s: printed as it is
    shown.push(after);
  }

  out(`A conversation of ${messages.length} messages (stored in ${fixed(seededMs / 1000)} s):`);
  out(`  newest message on screen ${fixed(openMs, 0)} ms after navigation`);
  out(
    `  at open: ${shown[0]} of ${messages.length} messages rendered (${pagesAtOpen} page request(s)), ${nodes} DOM nodes`,
  );
  out(
    `  scrolling to the top ${shown.length - 1} time(s): ${shown.join(' → ')} messages, ${pages.length - pagesAtOpen} more page request(s)`,
  );
  const allAtOnce = shown[0]! >= messages.length;
  out(`  (budget: not all at once: ${verdict(!allAtOnce && shown.at(-1)! > shown[0]!)})`);
}

await cleanups.run(main);
