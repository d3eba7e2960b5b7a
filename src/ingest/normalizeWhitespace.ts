export interface WhitespaceOptions {
  /** Re-join words that typesetting split across lines ("exam-\nple" → "example"); right for PDFs only. */
  joinHyphenatedLines?: boolean;
}

// Spaces that look like a space but are not U+0020: tab, no-break, en/em and friends, ideographic.
const SPACE_LIKE = /[\t\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g;
// Control characters carry no meaning in extracted text; by now line breaks are \n and tabs are spaces.
const CONTROL = /[^\P{Cc}\n]/gu;
// Zero-width characters and stray byte-order marks split words invisibly and confuse tokenizers.
const INVISIBLE = /[\u200b-\u200d\u2060\ufeff]/g;
// A soft hyphen at a line end marks a hyphenation point: the word continues on the next line.
const SOFT_HYPHEN_BREAK = /\u00ad\n/g;
const HYPHENATED_BREAK = /(\p{Ll})-\n(?=\p{Ll})/gu;

/**
 * Canonical text for chunking and embedding: NFC, LF line ends, single spaces, trimmed lines and at most one
 * blank line between paragraphs. Blank lines are kept on purpose: the chunker treats them as paragraph ends.
 */
export function normalizeWhitespace(text: string, options: WhitespaceOptions = {}): string {
  let result = text
    .normalize('NFC')
    .replace(/\r\n?|[\u2028\u2029\u0085\f]/g, '\n')
    .replace(SPACE_LIKE, ' ')
    .replace(CONTROL, '')
    .replace(INVISIBLE, '')
    .replace(/ {2,}/g, ' ')
    .replace(/ *\n */g, '\n');
  result = result.replace(SOFT_HYPHEN_BREAK, '').replace(/\u00ad/g, '');
  // Only lower-case on both sides: "Jean-\nPierre" and "2020-\n2021" keep their hyphen and line break.
  if (options.joinHyphenatedLines) result = result.replace(HYPHENATED_BREAK, '$1');
  return result.replace(/\n{3,}/g, '\n\n').trim();
}
