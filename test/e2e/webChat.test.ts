import { expect } from 'chai';
import type { Message } from '../../src/db/entities/Message.ts';
import { User } from '../../src/db/entities/User.ts';
import { createConversation } from '../support/factories.ts';
import {
  answerById,
  answerStatus,
  answers,
  composer,
  messagesLog,
  send,
  shownAtLeast,
  shownText,
  signIn,
  signUp,
  startNewChat,
  until,
  writingStatus,
} from '../support/webApp.ts';
import {
  saveScreenshot,
  seriousAccessibilityViolations,
  WebBrowser,
  type WebUser,
} from '../support/webBrowser.ts';
import {
  type Credentials,
  newCredentials,
  numberedAnswer,
  startWebStack,
  type WebStack,
} from '../support/webStack.ts';

const isStreaming = (body: { stream?: boolean | null }) => body.stream === true;

describe('Parley Web: chatting in Chromium (send, Stop, Regenerate, Markdown, search)', function () {
  // Chromium and the stack start once for the file; every wait below is on a condition.
  this.timeout(60_000);
  let stack: WebStack;
  let browser: WebBrowser;
  let alice: WebUser;
  let aliceCredentials: Credentials;
  let aliceToken: string;

  const storedAnswer = async (conversationId: string, answerId: string) => {
    const stored = (await stack.storedMessages(aliceToken, conversationId)).find(
      (message) => message.id === answerId,
    );
    if (!stored) throw new Error(`answer ${answerId} is not stored in ${conversationId}`);
    return stored;
  };

  before(async () => {
    [stack, browser] = await Promise.all([
      startWebStack('webchat', { stub: { answer: numberedAnswer(24) } }),
      WebBrowser.launch(),
    ]);
    alice = await browser.newUser(stack.url);
    aliceCredentials = newCredentials('alice');
  });
  beforeEach(() => stack.stub.reset());
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('signs up, sends with Enter and shows exactly the answer that was stored', async () => {
    await signUp(alice.page, aliceCredentials, 'Alice');
    aliceToken = await stack.tokenFor(aliceCredentials);

    const turn = await send(alice.page, 'What is a relay?\nAnswer briefly.');
    expect(await answerStatus(turn.answer, ['complete', 'failed'])).to.equal('complete');
    const stored = await storedAnswer(turn.conversationId, turn.answerId);
    expect(stored.status).to.equal('complete');
    expect(stored.content).to.equal(numberedAnswer(24)().join(''));
    expect(await shownText(turn.answer)).to.equal(stored.content);
    // The question is on screen as the user's turn, two lines, and the composer is empty again.
    const question = messagesLog(alice.page).getByRole('article', { name: 'You' }).last();
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, so the line break must show
    expect(await question.innerText()).to.include('What is a relay?\nAnswer briefly.');
    const storedQuestion = (await stack.storedMessages(aliceToken, turn.conversationId)).find(
      (message) => message.role === 'user',
    )!;
    expect(storedQuestion.content).to.equal('What is a relay?\nAnswer briefly.');
    expect(await composer(alice.page).inputValue()).to.equal('');
    alice.problems.assertClean('send');
  });

  it('Stop ends the answer where it was: the partial text stays on screen and is stored as cancelled', async () => {
    stack.stub.configure({ tokensPerSecond: 25, answer: numberedAnswer(400) });
    const turn = await send(alice.page, 'Tell me everything about relays.');
    await writingStatus(alice.page).waitFor();
    await shownAtLeast(turn.answer, 20);
    await alice.page.getByRole('button', { name: 'Stop' }).click();

    expect(await answerStatus(turn.answer, ['cancelled', 'complete', 'failed'])).to.equal('cancelled');
    const stored = await storedAnswer(turn.conversationId, turn.answerId);
    expect(stored.status).to.equal('cancelled');
    const shown = await shownText(turn.answer);
    expect(shown).to.equal(stored.content);
    expect(shown.length).to.be.greaterThan(0);
    expect(numberedAnswer(400)().join('').startsWith(shown)).to.equal(true);
    const aborted = await stack.stub.waitFor('aborted', (record) => isStreaming(record.body));
    expect(aborted.tokensSent).to.be.lessThan(400);
    await writingStatus(alice.page).waitFor({ state: 'detached' });
    alice.problems.assertClean('stop');
  });

  it('Esc in the composer stops the answer being written', async () => {
    stack.stub.configure({ tokensPerSecond: 25, answer: numberedAnswer(400) });
    const turn = await send(alice.page, 'Another long one, please.');
    await shownAtLeast(turn.answer, 20);
    await composer(alice.page).press('Escape');
    expect(await answerStatus(turn.answer, ['cancelled', 'complete', 'failed'])).to.equal('cancelled');
    const stored = await storedAnswer(turn.conversationId, turn.answerId);
    expect(await shownText(turn.answer)).to.equal(stored.content);
    alice.problems.assertClean('esc');
  });

  it('Regenerate streams a new answer to the same question, shown exactly as stored', async () => {
    stack.stub.configure({ answer: numberedAnswer(30, 're-') });
    const previous = answers(alice.page).last();
    const previousId = (await previous.getAttribute('data-message-id'))!;
    const conversationId = new URL(alice.page.url()).pathname.split('/')[2]!;
    // Only the last answer offers Regenerate.
    await alice.page.getByRole('button', { name: 'Regenerate' }).click();

    const regeneratedId = await until(
      () => answers(alice.page).last().getAttribute('data-message-id'),
      (id) => id !== null && id !== previousId,
    );
    const regenerated = answerById(alice.page, regeneratedId!);
    expect(await answerStatus(regenerated, ['complete', 'failed'])).to.equal('complete');
    const stored = await storedAnswer(conversationId, regeneratedId!);
    expect(stored.content).to.equal(numberedAnswer(30, 're-')().join(''));
    expect(await shownText(regenerated)).to.equal(stored.content);
    // The model was asked the same question again.
    const asked = stack.stub.requests.filter((record) => isStreaming(record.body));
    expect(asked).to.have.length(1);
    expect(JSON.stringify(asked[0]!.body.messages.at(-1))).to.include('Another long one, please.');
    alice.problems.assertClean('regenerate');
  });

  it('renders Markdown with highlighted code, Copy code and the answer details', async () => {
    stack.stub.configure({
      answer: () => [
        'Use **bold** and a list:\n\n- one\n- two\n\n',
        '```js\nconst answer = 42;\n',
        '```\n\n',
        'That is all.',
      ],
    });
    await alice.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const turn = await send(alice.page, 'Show me some code.');
    expect(await answerStatus(turn.answer, ['complete', 'failed'])).to.equal('complete');
    const body = turn.answer.locator('.message-body');
    expect(await body.locator('strong').textContent()).to.equal('bold');
    expect(await body.locator('li').count()).to.equal(2);
    expect(await body.locator('pre code').textContent()).to.include('const answer = 42;');
    // Highlighting marks tokens up (highlight.js spans), rather than leaving plain text.
    expect(await body.locator('pre code span').count()).to.be.greaterThan(0);

    await turn.answer.getByRole('button', { name: 'Copy code' }).click();
    const copied = await until(
      () => alice.page.evaluate('navigator.clipboard.readText()') as Promise<string>,
      (text) => text.includes('const answer = 42;'),
    );
    expect(copied).to.not.include('```');

    const stored = await storedAnswer(turn.conversationId, turn.answerId);
    await turn.answer.getByRole('button', { name: 'Details' }).click();
    await alice.page.getByText(stored.model!).first().waitFor();
    alice.problems.assertClean('markdown');
  });

  it('passes an axe scan of the chat with an answer, at desktop and phone width (dark)', async () => {
    await saveScreenshot(alice.page, 'chat-desktop');
    expect(await seriousAccessibilityViolations(alice.page)).to.deep.equal([]);

    const phone = await browser.newUser(stack.url, {
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      colorScheme: 'dark',
    });
    await signIn(phone.page, aliceCredentials);
    // The sidebar hides behind a button on a narrow screen; the latest chat is on screen.
    await phone.page.getByRole('button', { name: 'Conversations' }).waitFor();
    await answers(phone.page).last().waitFor();
    await saveScreenshot(phone.page, 'chat-phone-dark');
    expect(await seriousAccessibilityViolations(phone.page)).to.deep.equal([]);
    await phone.page.getByRole('button', { name: 'Conversations' }).click();
    await phone.page
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('button', { name: 'New chat' })
      .waitFor();
    await saveScreenshot(phone.page, 'chat-phone-sidebar');
    phone.problems.assertClean('phone');
    await phone.context.close();
    alice.problems.assertClean('axe chat');
  });

  it('history search finds a message of an older page and jumps to it', async () => {
    // A conversation too long for one page, stored directly; its third question holds the word.
    const em = stack.edge.runtime.orm.em.fork();
    const user = await em.findOneOrFail(User, { email: aliceCredentials.email });
    const turns = Array.from({ length: 40 }, (_, index) =>
      index === 2 ? 'Where do quokkas live, zanzibarquokka?' : `Question ${index + 1} about trains.`,
    );
    const { conversation, messages } = await createConversation(em, user, {
      turns,
      answers: turns.map((_, index) => `Answer ${index + 1} about trains.`),
      lastAnswer: 'complete',
      title: 'Long talk about trains',
    });
    const target = messages.find((message: Message) => message.content.includes('zanzibarquokka'))!;

    await alice.page.getByRole('searchbox', { name: 'Search messages' }).fill('zanzibarquokka');
    const results = alice.page
      .getByRole('list', { name: 'Search results' })
      .or(alice.page.getByRole('listbox', { name: 'Search results' }));
    const hit = results.getByRole('link').first();
    await hit.waitFor();
    await hit.click();
    await alice.page.waitForURL(`**/c/${conversation.id}#message-${target.id}`);
    await alice.page.getByRole('heading', { level: 1, name: 'Long talk about trains' }).waitFor();
    const message = messagesLog(alice.page).locator(`article[data-message-id="${target.id}"]`);
    await message.waitFor();
    expect(await message.textContent()).to.include('zanzibarquokka');
    // Scrolled into the visible part of the messages.
    await until(
      () =>
        message.evaluate((node) => {
          const rect = (
            node as unknown as { getBoundingClientRect: () => DOMRectLike }
          ).getBoundingClientRect();
          const view = globalThis as unknown as { innerHeight: number };
          return rect.bottom > 0 && rect.top < view.innerHeight;
        }),
      (visible) => visible,
    );
    alice.problems.assertClean('search');
  });

  it('sanitises the HTML a model writes: nothing of it runs', async () => {
    stack.stub.configure({
      answer: () => [
        'Careful:\n\n',
        '<script>window.__parleyPwned = 1</script>',
        '<b class="bait" onclick="window.__parleyPwned = 2">bait</b> ',
        '<a href="javascript:window.__parleyPwned = 3">link</a>',
      ],
    });
    await startNewChat(alice.page);
    // Raw HTML is shown as text: nothing of it is parsed, so the CSP has nothing to report either.
    const turn = await send(alice.page, 'Write some HTML.');
    expect(await answerStatus(turn.answer, ['complete', 'failed'])).to.equal('complete');
    const body = turn.answer.locator('.message-body');
    expect(await body.locator('script, b, [onclick], a[href^="javascript:"]').count()).to.equal(0);
    expect(await body.textContent()).to.include('<b class="bait" onclick=');
    await body.getByText('bait').click();
    await body.getByText('link').click();
    expect(await alice.page.evaluate('window.__parleyPwned')).to.equal(undefined);
    alice.problems.assertClean('sanitising');
  });
});

interface DOMRectLike {
  top: number;
  bottom: number;
}
