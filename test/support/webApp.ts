import type { Locator, Page } from 'playwright-core';
import type { Credentials } from './webStack.ts';

/**
 * What the tests do in Parley Web, by the roles and accessible names the web contract fixes
 * (a screen reader user finds the same things by the same names).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Polls `read` until `accept` takes its value (DOM state, stub state): a condition, not a clock. */
export async function until<T>(read: () => Promise<T> | T, accept: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    await new Promise((next) => setTimeout(next, 25));
  }
}

/** The composer: on screen once the signed-in app has rendered a chat. */
export const composer = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });

export const messagesLog = (page: Page) => page.getByRole('log', { name: 'Messages' });

export const answers = (page: Page) => messagesLog(page).getByRole('article', { name: 'Assistant' });

export const answerById = (page: Page, messageId: string) =>
  messagesLog(page).locator(`article[data-message-id="${messageId}"]`);

/**
 * The text of an answer as shown: its rendered Markdown's text, without the whitespace rendering
 * puts around the block elements (a doubled or missing piece of the text still shows).
 */
export const shownText = async (answer: Locator) =>
  ((await answer.locator('.message-body').textContent()) ?? '').trim();

export const writingStatus = (page: Page) => page.getByRole('status').filter({ hasText: 'Writing…' });

/** Fills the sign-up form and waits for the app to open a chat. */
export async function signUp(page: Page, credentials: Credentials, name?: string): Promise<void> {
  await page.goto('/signup');
  await page.getByRole('textbox', { name: 'Email' }).fill(credentials.email);
  await page.getByRole('textbox', { name: 'Password' }).fill(credentials.password);
  if (name) await page.getByRole('textbox', { name: 'Name (optional)' }).fill(name);
  await page.getByRole('button', { name: 'Create account' }).click();
  await composer(page).waitFor();
}

export async function signIn(page: Page, credentials: Credentials): Promise<void> {
  await page.goto('/signin');
  await page.getByRole('textbox', { name: 'Email' }).fill(credentials.email);
  await page.getByRole('textbox', { name: 'Password' }).fill(credentials.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await composer(page).waitFor();
}

/** The conversation the page shows, from its `/c/<id>` address. */
export function conversationIdOf(page: Page): string {
  const id = new URL(page.url()).pathname.match(/^\/c\/([^/]+)/)?.[1];
  if (!id) throw new Error(`not on a conversation: ${page.url()}`);
  return id;
}

export interface SentTurn {
  conversationId: string;
  /** The answer's article, found by its id (so later answers don't move it). */
  answer: Locator;
  answerId: string;
}

/**
 * Types `text` into the composer (a new line with Shift+Enter) and sends it with Enter, then returns the answer's article once
 * it carries its server id (the page may show it before the send's acknowledgement).
 */
export async function send(page: Page, text: string): Promise<SentTurn> {
  const before = await answerIds(page);
  // Lines after the first are typed after Shift+Enter, which adds a line instead of sending.
  const [first, ...more] = text.split('\n');
  await composer(page).fill(first!);
  for (const line of more) {
    await composer(page).press('Shift+Enter');
    await page.keyboard.insertText(line);
  }
  await composer(page).press('Enter');
  const answerId = await until(
    async () => (await answerIds(page)).find((id) => UUID.test(id) && !before.includes(id)),
    (id) => id !== undefined,
  );
  await page.waitForURL(/\/c\/[^/]+/);
  return { conversationId: conversationIdOf(page), answer: answerById(page, answerId!), answerId: answerId! };
}

/** The ids of the answers on screen, in order. */
export const answerIds = async (page: Page) =>
  (await answers(page).evaluateAll((nodes) =>
    nodes.map((node) => (node as unknown as { dataset: { messageId?: string } }).dataset.messageId ?? ''),
  )) as string[];

/** Waits until the answer's `data-status` is one of `statuses`; returns it. */
export const answerStatus = (answer: Locator, statuses: string[]) =>
  until(
    () => answer.getAttribute('data-status'),
    (status) => status !== null && statuses.includes(status),
  );

/** Waits until at least `characters` of the answer are on screen; returns what is. */
export const shownAtLeast = (answer: Locator, characters: number) =>
  until(
    () => shownText(answer),
    (text) => text.length >= characters,
  );

/** "New chat" in the sidebar; returns once the page shows the new, empty conversation. */
export async function startNewChat(page: Page): Promise<void> {
  const before = new URL(page.url()).pathname;
  await page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('button', { name: 'New chat' })
    .click();
  await page.waitForURL((url) => url.pathname !== before && url.pathname.startsWith('/c/'));
  await until(
    () => messagesLog(page).getByRole('article').count(),
    (count) => count === 0,
  );
  await composer(page).waitFor();
}

export interface ResumeRequest {
  messageId: string;
  afterSeq: number;
}

/**
 * Every `chat:resume` the page's Socket.IO client sends from now on, read off the wire: WebSocket
 * frames, or long-polling POST bodies (packets separated by \x1e). A packet is
 * `42[<ack id>]["chat:resume",{...}]`.
 */
export function recordResumes(page: Page): ResumeRequest[] {
  const resumes: ResumeRequest[] = [];
  const read = (payload: string) => {
    for (const packet of payload.split('\x1e')) {
      const match = /^42\d*(\[.*\])$/s.exec(packet);
      if (!match) continue;
      const [event, body] = JSON.parse(match[1]!) as [string, ResumeRequest];
      if (event === 'chat:resume') resumes.push({ messageId: body.messageId, afterSeq: body.afterSeq });
    }
  };
  page.on('websocket', (socket) => socket.on('framesent', ({ payload }) => read(String(payload))));
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().includes('/socket.io/')) read(request.postData() ?? '');
  });
  return resumes;
}
