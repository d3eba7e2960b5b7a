import { expect } from 'chai';
import type { RecordedRequest } from '../support/GroqStub.ts';
import {
  answerById,
  answerStatus,
  composer,
  recordResumes,
  send,
  shownAtLeast,
  shownText,
  signUp,
  until,
  writingStatus,
} from '../support/webApp.ts';
import { WebBrowser, type WebUser } from '../support/webBrowser.ts';
import {
  type Credentials,
  newCredentials,
  numberedAnswer,
  startWebStack,
  type WebStack,
} from '../support/webStack.ts';

/** Long enough (5 s at 30 tokens/s) that a reload or an outage happens while the answer streams. */
const LONG_ANSWER = numberedAnswer(150);

describe('Parley Web: an answer survives a reload, a cut connection and a second tab', function () {
  this.timeout(60_000);
  let stack: WebStack;
  let browser: WebBrowser;
  let bob: WebUser;
  let bobCredentials: Credentials;
  let bobToken: string;

  /** The streaming request of the answer being written now (the only one since the reset). */
  const streamingRequest = () =>
    stack.stub.waitFor('request', (record: RecordedRequest) => record.body.stream === true);

  const expectShownAsStored = async (conversationId: string, answerId: string, page = bob.page) => {
    const answer = answerById(page, answerId);
    expect(await answerStatus(answer, ['complete', 'cancelled', 'failed'])).to.equal('complete');
    const stored = (await stack.storedMessages(bobToken, conversationId)).find(
      (message) => message.id === answerId,
    )!;
    expect(stored.content).to.equal(LONG_ANSWER().join(''));
    expect(await shownText(answer)).to.equal(stored.content);
  };

  before(async () => {
    [stack, browser] = await Promise.all([
      startWebStack('webresume', { stub: { tokensPerSecond: 30, answer: LONG_ANSWER } }),
      WebBrowser.launch(),
    ]);
    bob = await browser.newUser(stack.url);
    bobCredentials = newCredentials('bob');
    await signUp(bob.page, bobCredentials);
    bobToken = await stack.tokenFor(bobCredentials);
  });
  beforeEach(() => stack.stub.reset());
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('a reload mid-answer picks the stream up where the page had it: the text ends exactly as stored', async () => {
    const turn = await send(bob.page, 'Explain resumable streams.');
    await shownAtLeast(turn.answer, 40);
    const request = await streamingRequest();
    expect(request.status, 'the answer is still being written at the reload').to.equal('streaming');

    await bob.page.reload();
    const answer = answerById(bob.page, turn.answerId);
    // The reloaded page follows the live answer (the model is still writing it), not a stored copy.
    await writingStatus(bob.page).waitFor();
    expect(
      await answerStatus(answer, ['pending', 'streaming', 'complete', 'cancelled', 'failed']),
    ).to.be.oneOf(['pending', 'streaming']);
    expect(request.status).to.equal('streaming');

    await expectShownAsStored(turn.conversationId, turn.answerId);
    // One request: the reload did not ask the model again.
    expect(stack.stub.requests.filter((record) => record.body.stream === true)).to.have.length(1);
    bob.problems.assertClean('reload');
  });

  it('a connection cut mid-answer and restored resumes exactly: nothing missing, nothing doubled', async () => {
    const turn = await send(bob.page, 'And what if the network drops?');
    await shownAtLeast(turn.answer, 40);
    const request = await streamingRequest();
    const tokensAtCut = request.tokensSent;
    const resumes = recordResumes(bob.page);

    // The browser's WebSocket and HTTP connections drop; its reconnects are refused for a while.
    const ended = await bob.problems.tolerating(
      [
        { text: /WebSocket connection to .* failed/ },
        { text: /Failed to load resource: net::ERR_(CONNECTION|EMPTY_RESPONSE|SOCKET)/ },
      ],
      async () => {
        stack.link.sever();
        const refusedBefore = stack.link.refused;
        // The model keeps writing while the page is cut off, and the page tries to come back.
        await until(
          () => ({ tokens: request.tokensSent, refused: stack.link.refused }),
          ({ tokens, refused }) => tokens >= tokensAtCut + 20 && refused > refusedBefore,
        );
        expect(request.status, 'the outage falls inside the answer').to.equal('streaming');
        stack.link.restore();
        return answerStatus(answerById(bob.page, turn.answerId), ['complete', 'cancelled', 'failed']);
      },
    );
    expect(ended).to.equal('complete');
    await expectShownAsStored(turn.conversationId, turn.answerId);
    // The page asked for what came after the text it had, not for the whole answer again.
    const resumed = resumes.filter((resume) => resume.messageId === turn.answerId);
    expect(resumed, 'a chat:resume for the answer after the reconnect').to.not.have.length(0);
    expect(resumed[0]!.afterSeq).to.be.greaterThan(0);
    // The page can send again over the restored connection.
    expect(await composer(bob.page).isEditable()).to.equal(true);
    bob.problems.assertClean('cut');
  });

  it('a second tab of the same user shows the answer live, with the writing state, as it streams', async () => {
    const conversationPath = new URL(bob.page.url()).pathname;
    const secondTab = await bob.context.newPage();
    await secondTab.goto(conversationPath);
    await composer(secondTab).waitFor();

    const turn = await send(bob.page, 'Tell both tabs a story.');
    const mirrored = answerById(secondTab, turn.answerId);
    await writingStatus(secondTab).waitFor();
    await shownAtLeast(mirrored, 40);
    const request = await streamingRequest();
    expect(request.status, 'the second tab shows the answer while it is written').to.equal('streaming');

    await expectShownAsStored(turn.conversationId, turn.answerId, secondTab);
    await expectShownAsStored(turn.conversationId, turn.answerId, bob.page);
    await writingStatus(secondTab).waitFor({ state: 'detached' });
    await secondTab.close();
    bob.problems.assertClean('second tab');
  });
});
