import { expect } from 'chai';
import { firstWordsTitle } from '../../src/answers/context/prompts.ts';

/**
 * The title a conversation gets without a model (the offline stand-in, or a model that failed):
 * the question's first words, never the title prompt the model would have been sent.
 */
describe('ConversationTitler without a model: the question’s first words', () => {
  it('takes at most six words, trimmed, on one line', () => {
    expect(firstWordsTitle('  What is the capital\nof France and why is it there?  ')).to.equal(
      'What is the capital of France',
    );
    expect(firstWordsTitle('Hello')).to.equal('Hello');
  });

  it('stays within 60 characters, on a word boundary when it can', () => {
    const title = firstWordsTitle(
      'Internationalisation considerations regarding multilingual documentation pipelines',
    );
    expect(title).to.equal('Internationalisation considerations regarding multilingual');
    expect(firstWordsTitle('x'.repeat(100))).to.equal('x'.repeat(60));
  });

  it('drops quotes and a final period, and has none for blank text', () => {
    expect(firstWordsTitle('"Plan the trip."')).to.equal('Plan the trip');
    expect(firstWordsTitle(' \n ')).to.equal(null);
  });
});
