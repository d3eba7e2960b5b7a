/**
 * `node scripts/screenshot.ts [path]`: the README's picture of Parley Web (default
 * docs/images/chat.png, 1280×800). It runs the real stack on this machine (a throwaway database,
 * the built app, an edge, a worker process; the Groq stub writes the answer), signs up in headless
 * Chromium, asks a question and waits for the streamed Markdown answer to end.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropTestDatabases, testRedisClient } from '../test/support/services.ts';
import { removeTestKeys } from '../test/support/testKeys.ts';
import { answerStatus, send, signUp } from '../test/support/webApp.ts';
import { WebBrowser } from '../test/support/webBrowser.ts';
import { newCredentials, startWebStack } from '../test/support/webStack.ts';

const OUTPUT = resolve(process.argv[2] ?? fileURLToPath(new URL('../docs/images/chat.png', import.meta.url)));

const ANSWER = `Parley streams every answer through a queue, so a reload or a dropped connection never loses a word.

**How a token reaches your screen**

1. The edge queues your question and acknowledges it at once.
2. A worker asks the model and relays each batch of tokens with a sequence number.
3. Your tabs render the batches in order and ask to *resume* after a reconnect.

\`\`\`ts
socket.emit('chat:resume', { messageId, afterSeq: lastSeq }, (error, result) => {
  if (error) return showError(error);
  console.log(\`replayed \${result.replayed} batches\`);
});
\`\`\`

Nothing is rendered twice: a batch that arrives again is dropped by its \`seq\`.`;

/** The answer in word-sized tokens, whitespace kept, as a model streams it. */
const answerTokens = () => ANSWER.match(/\S+\s*/g) ?? [];

const OTHER_CHATS = ['Planning the Lisbon offsite', 'Tuning the pgvector index', 'Summary of the Q3 report'];

async function main() {
  const stack = await startWebStack('screenshot', {
    stub: { ttftMs: 150, tokensPerSecond: 60, answer: answerTokens },
  });
  const browser = await WebBrowser.launch();
  try {
    const user = await browser.newUser(stack.url, {
      viewport: { width: 1280, height: 800 },
      colorScheme: 'light',
    });
    const credentials = newCredentials('ada');
    await signUp(user.page, credentials, 'Ada');

    // A few earlier chats for the sidebar, and the one on screen, titled (no title job races the picture).
    const token = await stack.tokenFor(credentials);
    const create = (title: string) =>
      stack.api.request('POST', '/api/v1/conversations', { token, body: { title } });
    for (const title of OTHER_CHATS) await create(title);
    const current = await create('How Parley streams answers');
    await user.page.goto(`/c/${current.body.id}`);

    const turn = await send(user.page, 'How does Parley make sure I never lose part of an answer?');
    const status = await answerStatus(turn.answer, ['complete', 'failed', 'cancelled']);
    if (status !== 'complete') throw new Error(`the answer ended ${status}`);
    await user.page.getByRole('heading', { level: 1, name: 'How Parley streams answers' }).waitFor();
    // The mouse away from every control, so no hover state shows in the picture.
    await user.page.mouse.move(0, 799);

    await mkdir(dirname(OUTPUT), { recursive: true });
    await user.page.screenshot({ path: OUTPUT });
    user.problems.assertClean('screenshot');
    process.stdout.write(`wrote ${OUTPUT}\n`);
  } finally {
    await browser.close();
    await stack.stop();
    await dropTestDatabases();
    await removeTestKeys(testRedisClient);
  }
}

main().catch((error: Error) => {
  console.error(`screenshot failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
