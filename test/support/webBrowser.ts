import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, BrowserContextOptions, ConsoleMessage, Page } from 'playwright-core';
import { launchChromium } from './browser.ts';

/** Where browser tests keep their screenshots (gitignored; CI keeps it as an artifact). */
export const ARTIFACTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../.artifacts/web');

/** A message the browser logged as an error, or an exception no page script caught. */
export interface PageProblem {
  kind: 'console' | 'pageerror';
  text: string;
  /** For network failures Chromium logs, the URL of the request that failed. */
  url?: string;
}

/** An error a test expects (a request it makes fail, a connection it cuts). */
export interface ExpectedProblem {
  text: RegExp;
  url?: RegExp;
}

/**
 * Every error a browser context's pages log (`console.error`, failed requests, CSP refusals) and
 * every uncaught exception (Chromium logs each 4xx/5xx answer and failed connection as an error
 * too). A test ends with `assertClean()`; errors it causes on purpose are tolerated only while it
 * says so.
 */
export class ProblemWatch {
  readonly problems: PageProblem[] = [];
  private readonly expected = new Set<ExpectedProblem>();

  constructor(context: BrowserContext) {
    context.on('console', (message) => this.onConsole(message));
    context.on('weberror', (error) => this.record({ kind: 'pageerror', text: String(error.error()) }));
  }

  /** Tolerates `problem` until the returned function is called. */
  tolerate(problem: ExpectedProblem): () => void {
    this.expected.add(problem);
    return () => this.expected.delete(problem);
  }

  /** Tolerates `problems` while `action` runs. */
  async tolerating<T>(problems: ExpectedProblem[], action: () => Promise<T>): Promise<T> {
    const ends = problems.map((problem) => this.tolerate(problem));
    try {
      return await action();
    } finally {
      for (const end of ends) end();
    }
  }

  /** Throws with every unexpected problem since the last call (so one test's errors fail only that test). */
  assertClean(label: string): void {
    const problems = this.problems.splice(0);
    if (problems.length === 0) return;
    const lines = problems.map(
      (problem) => `  ${problem.kind}: ${problem.text}${problem.url ? ` (${problem.url})` : ''}`,
    );
    throw new Error(`${label}: the page reported ${problems.length} error(s):\n${lines.join('\n')}`);
  }

  private onConsole(message: ConsoleMessage) {
    if (message.type() !== 'error') return;
    this.record({ kind: 'console', text: message.text(), url: message.location().url || undefined });
  }

  private record(problem: PageProblem) {
    const expected = [...this.expected].some(
      (rule) => rule.text.test(problem.text) && (!rule.url || rule.url.test(problem.url ?? '')),
    );
    if (!expected) this.problems.push(problem);
  }
}

/** A browser context of one user, with its pages' problems watched. */
export interface WebUser {
  context: BrowserContext;
  page: Page;
  problems: ProblemWatch;
}

/** One Chromium per test file; a fresh context (cookies, storage) per user. */
export class WebBrowser {
  readonly browser: Browser;

  private constructor(browser: Browser) {
    this.browser = browser;
  }

  static async launch(): Promise<WebBrowser> {
    return new WebBrowser(await launchChromium());
  }

  /** A new context for `baseURL` (desktop size unless said otherwise) and its first page. */
  async newUser(baseURL: string, options: BrowserContextOptions = {}): Promise<WebUser> {
    const context = await this.browser.newContext({
      baseURL,
      viewport: { width: 1280, height: 800 },
      ...options,
    });
    const problems = new ProblemWatch(context);
    return { context, page: await context.newPage(), problems };
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** Saves what `page` shows as `.artifacts/web/<name>.png`. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = resolve(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** One axe-core rule a page breaks, with where. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

let axeSource: Promise<string> | undefined;

/**
 * Runs axe-core in `page` and returns the serious and critical violations. The source is
 * evaluated through the DevTools protocol, which the app's CSP (`script-src 'self'`) does not
 * govern, so the scan needs neither an injected script tag nor a CSP bypass.
 */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const source = await axeSource;
  await page.evaluate(`if (!globalThis.axe) { ${source}\n }`);
  const violations = (await page.evaluate(`
    axe.run(document, { resultTypes: ['violations'] }).then((results) =>
      results.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact ?? null,
        help: violation.help,
        targets: violation.nodes.slice(0, 5).map((node) => node.target.join(' ')),
      })),
    )
  `)) as AxeViolation[];
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}
