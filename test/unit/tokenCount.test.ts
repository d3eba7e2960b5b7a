import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import llama3Tokenizer from 'llama3-tokenizer-js';
import { countTokens } from '../../src/llm/tokenCount.ts';

const whole = (text: string) => llama3Tokenizer.encode(text, { bos: false, eos: false }).length;

describe('countTokens', () => {
  it('counts piece by piece exactly what the tokenizer counts for the whole text', () => {
    const parts = [
      'a',
      'Z',
      ' ',
      '  ',
      '\n',
      '\r\n',
      '\t',
      "'s",
      "'T",
      "'",
      '1',
      '23',
      '4567',
      '.',
      '!?',
      'é',
      '€',
    ];
    parts.push(
      '日本',
      '😀',
      '—',
      '\u00a0',
      "I'm",
      "don't",
      '```',
      '<',
      '|',
      '>',
      'x_y',
      '\u200b',
      '<|eot_id|>',
    );
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const texts = [readFileSync(new URL('../../README.md', import.meta.url), 'utf8'), ''];
    for (let index = 0; index < 2_000; index++) {
      const length = 1 + Math.floor(random() * 30);
      texts.push(Array.from({ length }, () => parts[Math.floor(random() * parts.length)]).join(''));
    }
    for (const text of texts) expect(countTokens(text), JSON.stringify(text)).to.equal(whole(text));
    // Twice: the second count comes from the cached pieces.
    for (const text of texts.slice(0, 50)) expect(countTokens(text)).to.equal(whole(text));
  });
});
