// Words whose trailing full stop is usually not the end of a sentence (compared lower-case, without the dot).
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'mt',
  'rev',
  'gen',
  'col',
  'capt',
  'lt',
  'sgt',
  'hon',
  'e.g',
  'i.e',
  'etc',
  'vs',
  'cf',
  'al',
  'approx',
  'ca',
  'viz',
  'fig',
  'figs',
  'eq',
  'eqs',
  'no',
  'nos',
  'vol',
  'vols',
  'p',
  'pp',
  'ch',
  'chap',
  'sec',
  'art',
  'para',
  'ed',
  'eds',
  'inc',
  'ltd',
  'co',
  'corp',
  'dept',
  'univ',
  'est',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
]);

// Western terminators need whitespace after them ("3.14", "example.com" are not ends); closing quotes and
// brackets belong to the sentence they close. CJK full stops need no following space.
const SENTENCE_END = /[.!?…]+["'”’»)\]]*(?=\s)|[。！？]+[」』”’）)]*/g;

/**
 * Splits one paragraph into sentences. A heuristic, not a linguist: a full stop after a known abbreviation
 * or a single initial ("J. Smith"), after a list number at the start of a line, or followed by a lower-case
 * letter does not end a sentence.
 */
export function splitSentences(paragraph: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (const match of paragraph.matchAll(SENTENCE_END)) {
    const end = match.index + match[0].length;
    if (!endsSentence(paragraph, match.index, match[0], end)) continue;
    const sentence = paragraph.slice(start, end).trim();
    if (sentence !== '') sentences.push(sentence);
    start = end;
  }
  const rest = paragraph.slice(start).trim();
  if (rest !== '') sentences.push(rest);
  return sentences;
}

function endsSentence(paragraph: string, index: number, terminator: string, end: number): boolean {
  if (/^[。！？]/.test(terminator)) return true;
  const next = /\S/u.exec(paragraph.slice(end, end + 8))?.[0];
  if (next !== undefined && /\p{Ll}/u.test(next)) return false;
  if (terminator !== '.') return true;
  // The "word" the full stop is attached to, e.g. "Dr", "e.g", "J" or "12".
  const word = /[\p{L}\p{N}.]*$/u.exec(paragraph.slice(Math.max(0, index - 24), index))?.[0] ?? '';
  if (ABBREVIATIONS.has(word.toLowerCase())) return false;
  if (/^\p{Lu}$/u.test(word) || /^(\p{L}\.)+\p{L}$/u.test(word)) return false; // initials, "U.S", "a.m"
  if (/^\d{1,3}$/.test(word) && startsLine(paragraph, index - word.length)) return false; // "2. Next step"
  return true;
}

function startsLine(text: string, position: number): boolean {
  let before = position - 1;
  while (before >= 0 && (text[before] === ' ' || text[before] === '\t')) before--;
  return before < 0 || text[before] === '\n';
}
