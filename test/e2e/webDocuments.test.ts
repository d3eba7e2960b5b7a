import { expect } from 'chai';
import { NOTHING_RELEVANT_ANSWER } from '../../src/answers/context/groundedPrompt.ts';
import { makeTextPdf } from '../support/pdfFactory.ts';
import { answerStatus, send, shownText, signUp, startNewChat, until } from '../support/webApp.ts';
import {
  saveScreenshot,
  seriousAccessibilityViolations,
  WebBrowser,
  type WebUser,
} from '../support/webBrowser.ts';
import { type Credentials, newCredentials, startWebStack, type WebStack } from '../support/webStack.ts';

const FILENAME = 'zephyr-manual.pdf';

/**
 * Sentences of about 25 tokens: with 32-token chunks and no overlap each becomes a chunk of its
 * own, so the one that answers the question is a chunk that starts on page 2.
 */
const MANUAL = makeTextPdf([
  [
    'The harbour ledger lists copper orchards, lantern meadows and violet quarries along the old canal path.',
    'Every saddle maker in the valley keeps timber beacons, thistle garnets and pewter marbles in a cellar.',
    'Falcon willow cobalt juniper: the four guild colours painted on each gate of the northern market square.',
  ],
  [
    'Zephyr turbines need maintenance every 42 days, when the blade bearings are greased and the yaw brake is tested.',
    'Spare fuses for the nacelle lights are kept in the blue cabinet beside the stairs of the second level.',
  ],
]);

/** Records, in the page, every status a document's list item shows (so quick steps are seen too). */
const RECORD_DOCUMENT_STATES = `
  window.__documentStates = [];
  const record = () => {
    for (const item of document.querySelectorAll('li[data-document-id]')) {
      const state = { id: item.dataset.documentId, status: item.dataset.status, text: item.textContent };
      const last = window.__documentStates.findLast((seen) => seen.id === state.id);
      if (!last || last.status !== state.status || last.text !== state.text) window.__documentStates.push(state);
    }
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
  record();
`;

interface DocumentState {
  id: string;
  status: string;
  text: string;
}

describe('Parley Web: documents (upload, progress, citations with pages)', function () {
  this.timeout(60_000);
  let stack: WebStack;
  let browser: WebBrowser;
  let carol: WebUser;
  let carolCredentials: Credentials;
  let carolToken: string;
  let documentId: string;

  const documentsList = () => carol.page.locator('li[data-document-id]').filter({ hasText: FILENAME });

  before(async () => {
    [stack, browser] = await Promise.all([
      startWebStack('webdocs', {
        env: { CHUNK_TOKENS: '32', CHUNK_OVERLAP: '0' },
        workerQueues: 'chat,ingest,maintenance',
      }),
      WebBrowser.launch(),
    ]);
    carol = await browser.newUser(stack.url);
    carolCredentials = newCredentials('carol');
    await signUp(carol.page, carolCredentials);
    carolToken = await stack.tokenFor(carolCredentials);
  });
  beforeEach(() => stack.stub.reset());
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('uploads a PDF with the file picker and shows its progress until it is ready', async () => {
    await carol.page.getByRole('link', { name: 'Documents' }).click();
    await carol.page.getByRole('heading', { name: 'Documents' }).waitFor();
    await carol.page.evaluate(RECORD_DOCUMENT_STATES);

    await carol.page
      .getByLabel('Upload document')
      .setInputFiles({ name: FILENAME, mimeType: 'application/pdf', buffer: Buffer.from(MANUAL) });
    const item = documentsList();
    await item.and(carol.page.locator('[data-status="ready"]')).waitFor();
    documentId = (await item.getAttribute('data-document-id'))!;

    const stored = await stack.api.request('GET', `/api/v1/documents/${documentId}`, { token: carolToken });
    expect(stored.body.status).to.equal('ready');
    expect(stored.body.chunkCount).to.be.greaterThan(1);
    expect((await item.textContent())!).to.include(`Ready · ${stored.body.chunkCount} chunks`);

    const states = ((await carol.page.evaluate('window.__documentStates')) as DocumentState[]).filter(
      (state) => state.id === documentId,
    );
    // The list showed the document before it was ready (queued, then processing), and ended ready.
    expect(states.at(-1)!.status).to.equal('ready');
    expect(states.length).to.be.greaterThan(1);
    for (const state of states.slice(0, -1)) {
      expect(state.status).to.be.oneOf(['queued', 'processing']);
      expect(state.text).to.match(/Queued|Processing \d+ %/);
    }
    await saveScreenshot(carol.page, 'documents');
    expect(await seriousAccessibilityViolations(carol.page)).to.deep.equal([]);
    carol.problems.assertClean('upload');
  });

  it('says "Already uploaded" for the same file again and keeps one document', async () => {
    await carol.page
      .getByLabel('Upload document')
      .setInputFiles({ name: FILENAME, mimeType: 'application/pdf', buffer: Buffer.from(MANUAL) });
    await carol.page
      .getByRole('status')
      .filter({ hasText: `Already uploaded: ${FILENAME}` })
      .waitFor();
    expect(await documentsList().count()).to.equal(1);
    const listed = await stack.api.request('GET', '/api/v1/documents', { token: carolToken });
    expect(listed.body.items).to.have.length(1);
    carol.problems.assertClean('duplicate');
  });

  it('a grounded answer links [1] to the cited passage, with its file and page', async () => {
    stack.stub.configure({ answer: () => ['Every ', '42 ', 'days ', '[1].'] });
    await startNewChat(carol.page);
    await carol.page.getByRole('combobox', { name: 'Mode' }).selectOption({ label: 'Grounded' });
    const turn = await send(carol.page, 'How often do zephyr turbines need maintenance?');
    expect(await answerStatus(turn.answer, ['complete', 'failed'])).to.equal('complete');

    const stored = (await stack.storedMessages(carolToken, turn.conversationId)).find(
      (message) => message.id === turn.answerId,
    )!;
    expect(stored.citations).to.have.length(1);
    expect(stored.citations[0]).to.include({ n: 1, filename: FILENAME, page: 2 });
    expect(await shownText(turn.answer)).to.equal('Every 42 days [1].');

    const citation = turn.answer.getByRole('link', { name: `Source 1: ${FILENAME}, page 2` });
    expect(await citation.getAttribute('class')).to.match(/\bcitation\b/);
    await citation.click();
    const passage = carol.page.getByRole('region', { name: 'Source 1' });
    await passage.waitFor();
    const passageText = (await passage.textContent())!;
    expect(passageText).to.include(FILENAME);
    expect(passageText).to.match(/page 2|p\. ?2/i);
    expect(passageText).to.include('every 42 days');
    await saveScreenshot(carol.page, 'chat-grounded-citation');
    carol.problems.assertClean('citation');
  });

  it('shows the "not in your documents" answer as such', async () => {
    const requestsBefore = stack.stub.requests.length;
    await startNewChat(carol.page);
    await carol.page.getByRole('combobox', { name: 'Mode' }).selectOption({ label: 'Grounded' });
    const turn = await send(carol.page, 'Who painted the Sistine Chapel ceiling?');
    expect(await answerStatus(turn.answer, ['complete', 'failed'])).to.equal('complete');
    expect(await shownText(turn.answer)).to.equal(NOTHING_RELEVANT_ANSWER);
    expect(await turn.answer.getAttribute('data-grounding')).to.equal('none');
    await turn.answer.getByText('Not found in your documents').waitFor();
    // The model was not asked.
    expect(stack.stub.requests.slice(requestsBefore).filter((record) => record.body.stream)).to.have.length(
      0,
    );
    carol.problems.assertClean('not found');
  });

  it('deletes the document from the list', async () => {
    await carol.page.getByRole('link', { name: 'Documents' }).click();
    carol.page.once('dialog', (dialog) => void dialog.accept());
    await carol.page.getByRole('button', { name: `Delete ${FILENAME}` }).click();
    // A confirmation inside the page, if the app asks for one.
    const confirm = carol.page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true });
    await until(
      async () => ({ listed: await documentsList().count(), confirming: await confirm.isVisible() }),
      ({ listed, confirming }) => listed === 0 || confirming,
    );
    if (await confirm.isVisible()) await confirm.click();
    await documentsList().waitFor({ state: 'detached' });
    const gone = await stack.api.request('GET', `/api/v1/documents/${documentId}`, { token: carolToken });
    expect(gone.status).to.equal(404);
    carol.problems.assertClean('delete');
  });
});
