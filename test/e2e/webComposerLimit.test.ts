import { expect } from 'chai';
import { MAX_MESSAGE_CHARS } from '../../src/validation/messageLimit.ts';
import { composer, signUp } from '../support/webApp.ts';
import { seriousAccessibilityViolations, WebBrowser, type WebUser } from '../support/webBrowser.ts';
import { newCredentials, startWebStack, type WebStack } from '../support/webStack.ts';

/** Parley Web never sends a message over the content limit: it counts near it and refuses above it. */
describe('Parley Web: the composer and the message length limit', function () {
  this.timeout(60_000);
  let stack: WebStack;
  let browser: WebBrowser;
  let user: WebUser;
  /** Every chat:send the page puts on its socket (WebSocket frames), from sign-up on. */
  const sends: string[] = [];

  before(async () => {
    [stack, browser] = await Promise.all([startWebStack('webcomposer'), WebBrowser.launch()]);
    user = await browser.newUser(stack.url);
    user.page.on('websocket', (socket) =>
      socket.on('framesent', (frame) => {
        if (String(frame.payload).includes('chat:send')) sends.push(String(frame.payload).slice(0, 40));
      }),
    );
    await signUp(user.page, newCredentials('composer'));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('counts characters near the limit, and above it disables Send and says by how much', async () => {
    const { page } = user;
    const send = page.getByRole('button', { name: 'Send', exact: true });
    const count = page.locator('#composer-count');

    await composer(page).fill('short message');
    expect(await count.textContent()).to.equal('');
    expect(await send.isEnabled()).to.equal(true);

    await composer(page).fill('x'.repeat(MAX_MESSAGE_CHARS - 100));
    await count.filter({ hasText: '31,900 / 32,000 characters' }).waitFor();
    expect(await send.isEnabled()).to.equal(true);

    await composer(page).fill('x'.repeat(MAX_MESSAGE_CHARS + 5));
    await count.filter({ hasText: '5 over the limit' }).waitFor();
    expect(await count.textContent()).to.equal(
      '32,005 / 32,000 characters: 5 over the limit. Shorten the message to send it.',
    );
    expect(await send.isDisabled()).to.equal(true);
    expect(await composer(page).getAttribute('aria-invalid')).to.equal('true');
    expect(await seriousAccessibilityViolations(page)).to.deep.equal([]);

    // Enter does not send it either: the text stays and no message appears.
    await composer(page).press('Enter');
    expect((await composer(page).inputValue()).length).to.equal(MAX_MESSAGE_CHARS + 5);
    expect(await send.isDisabled()).to.equal(true);

    // Trailing blanks don't count, as on the server.
    await composer(page).fill(`${'x'.repeat(MAX_MESSAGE_CHARS)}   \n`);
    await count.filter({ hasText: '32,000 / 32,000 characters' }).waitFor();
    expect(await send.isEnabled()).to.equal(true);
    expect(sends).to.deep.equal([]);
    user.problems.assertClean('composer limit');
  });
});
