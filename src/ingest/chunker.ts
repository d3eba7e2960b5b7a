import type { ParsedDocument } from './parseDocument.ts';
import { splitSentences } from './sentences.ts';

export interface TextChunk {
  ordinal: number;
  page: number | null;
  content: string;
  tokenCount: number;
}

export interface ChunkOptions {
  maxTokens: number;
  /** Share of maxTokens (0 to 0.5) that a chunk repeats from the end of the previous one, in whole sentences. */
  overlap: number;
  countTokens: (text: string) => number;
}

/**
 * The smallest piece a chunk is built from: a sentence, or a part of a sentence too long for one chunk.
 * `glued` marks the continuation of a word that had to be cut by characters (no space before it).
 */
interface Unit {
  text: string;
  page: number | null;
  paragraph: number;
  tokens: number;
  glued: boolean;
}

// Far more characters per token than real text has (about 4); longer sentences go straight to splitting,
// which still yields them whole if they do fit.
const CHARACTERS_PER_TOKEN_CEILING = 64;

// Ending at a paragraph break is preferred unless it would leave the chunk less than half full.
const PARAGRAPH_CUT_MIN_FILL = 0.5;

/**
 * Cuts a document into chunks of at most `maxTokens` tokens (as counted by `countTokens` on the final text),
 * made of whole sentences where possible, preferably ending at a paragraph break. Consecutive chunks share
 * about `overlap × maxTokens` tokens of trailing sentences so that a passage cut in two stays findable.
 * Packing sums per-sentence counts (linear), then each chunk's text is counted once and trimmed if joining
 * changed the count.
 */
export function chunkDocument(document: ParsedDocument, options: ChunkOptions): TextChunk[] {
  checkOptions(options);
  const { maxTokens, countTokens } = options;
  const units = documentUnits(document, options);
  // tokensBefore[i] is the summed count of units[0..i), so any run's estimate costs O(1).
  const tokensBefore = [0];
  for (const unit of units) tokensBefore.push(tokensBefore.at(-1)! + unit.tokens);
  const estimate = (from: number, to: number) => tokensBefore[to]! - tokensBefore[from]!;

  const chunks: TextChunk[] = [];
  let start = 0;
  let covered = 0; // units before this index are already in some chunk
  while (covered < units.length) {
    let end = greedyEnd(units, start, covered, maxTokens, estimate);
    let content = joinUnits(units, start, end);
    let tokenCount = countTokens(content);
    while (tokenCount > maxTokens && end - start > 1) {
      // Keep at least one new unit so the loop always advances: drop repeated units from the front instead.
      if (end - 1 > covered) end--;
      else start++;
      content = joinUnits(units, start, end);
      tokenCount = countTokens(content);
    }
    chunks.push({ ordinal: chunks.length, page: units[start]!.page, content, tokenCount });
    covered = end;
    start = overlapStart(units, start, end, options);
  }
  return chunks;
}

function checkOptions({ maxTokens, overlap }: ChunkOptions): void {
  if (!Number.isInteger(maxTokens) || maxTokens < 1)
    throw new RangeError(`maxTokens must be a positive integer, got ${maxTokens}`);
  if (!(overlap >= 0 && overlap <= 0.5))
    throw new RangeError(`overlap must be between 0 and 0.5, got ${overlap}`);
}

/** Sentences of every paragraph of every page, in order; sentences too long for a chunk are cut into parts. */
function documentUnits(document: ParsedDocument, { maxTokens, countTokens }: ChunkOptions): Unit[] {
  const units: Unit[] = [];
  let paragraph = 0;
  for (const { page, text } of document.pages) {
    for (const paragraphText of text.split(/\n\s*\n/)) {
      if (paragraphText.trim() === '') continue;
      paragraph++;
      for (const sentence of splitSentences(paragraphText)) {
        // Tokenizing megabytes of one unpunctuated run at once is slow, and such a run almost never fits.
        const tokens =
          sentence.length > maxTokens * CHARACTERS_PER_TOKEN_CEILING ? Infinity : countTokens(sentence);
        if (tokens <= maxTokens) units.push({ text: sentence, page, paragraph, tokens, glued: false });
        else
          for (const part of splitOverlong(sentence, maxTokens, countTokens))
            units.push({ ...part, page, paragraph });
      }
    }
  }
  return units;
}

/** Parts of at most maxTokens: whole words where possible, a single overlong "word" cut by characters. */
function splitOverlong(
  sentence: string,
  maxTokens: number,
  countTokens: (text: string) => number,
): Pick<Unit, 'text' | 'tokens' | 'glued'>[] {
  const words = sentence.split(/\s+/).filter((word) => word !== '');
  const parts: Pick<Unit, 'text' | 'tokens' | 'glued'>[] = [];
  let next = 0;
  let guess = 1;
  while (next < words.length) {
    const fit = longestFittingPrefix(
      words.length - next,
      maxTokens,
      (count) => countTokens(words.slice(next, next + count).join(' ')),
      guess,
    );
    if (fit.length > 0) {
      guess = fit.length;
      parts.push({ text: words.slice(next, next + fit.length).join(' '), tokens: fit.tokens, glued: false });
      next += fit.length;
    } else {
      for (const [index, piece] of cutWord(words[next]!, maxTokens, countTokens).entries())
        parts.push({ ...piece, glued: index > 0 });
      next++;
    }
  }
  return parts;
}

function cutWord(
  word: string,
  maxTokens: number,
  countTokens: (text: string) => number,
): { text: string; tokens: number }[] {
  const pieces: { text: string; tokens: number }[] = [];
  let from = 0;
  // Never end a piece between the two halves of a surrogate pair.
  const safeEnd = (end: number) => (end < word.length && /[\udc00-\udfff]/.test(word[end]!) ? end - 1 : end);
  let guess = 1;
  while (from < word.length) {
    const fit = longestFittingPrefix(
      word.length - from,
      maxTokens,
      (length) => countTokens(word.slice(from, safeEnd(from + length))),
      guess,
    );
    guess = Math.max(fit.length, 1);
    let end = safeEnd(from + fit.length);
    let tokens = fit.tokens;
    if (end <= from) {
      // A single character over the limit cannot be cut further; it goes alone so the loop still advances.
      end = from + (word.codePointAt(from)! > 0xffff ? 2 : 1);
      tokens = countTokens(word.slice(from, end));
    }
    pieces.push({ text: word.slice(from, end), tokens });
    from = end;
  }
  return pieces;
}

/**
 * The longest prefix (of `available` items) whose measured count is within maxTokens. The search gallops from
 * `guess` (the previous part's length: parts of one text tend to be alike) and then bisects, so it costs a
 * few measurements of about one part each rather than work proportional to everything left.
 */
function longestFittingPrefix(
  available: number,
  maxTokens: number,
  measure: (length: number) => number,
  guess: number,
): { length: number; tokens: number } {
  let fits = { length: 0, tokens: 0 };
  let tooLong = available + 1;
  const first = Math.min(Math.max(guess, 1), available);
  const firstTokens = measure(first);
  if (firstTokens <= maxTokens) {
    fits = { length: first, tokens: firstTokens };
    for (let step = 1; fits.length < available; step *= 2) {
      const probe = Math.min(fits.length + step, available);
      const tokens = measure(probe);
      if (tokens > maxTokens) {
        tooLong = probe;
        break;
      }
      fits = { length: probe, tokens };
    }
  } else {
    tooLong = first;
    for (let step = 1; tooLong > 1; step *= 2) {
      const probe = Math.max(tooLong - step, 1);
      const tokens = measure(probe);
      if (tokens <= maxTokens) {
        fits = { length: probe, tokens };
        break;
      }
      tooLong = probe;
    }
  }
  while (tooLong - fits.length > 1) {
    const middle = Math.floor((fits.length + tooLong) / 2);
    const tokens = measure(middle);
    if (tokens <= maxTokens) fits = { length: middle, tokens };
    else tooLong = middle;
  }
  return fits;
}

/**
 * Extends the chunk from `start` while the estimated count fits, then pulls the end back to the last
 * paragraph break if that still leaves the chunk at least half full and adds something new.
 */
function greedyEnd(
  units: Unit[],
  start: number,
  covered: number,
  maxTokens: number,
  estimate: (from: number, to: number) => number,
): number {
  let end = start;
  while (end < units.length && estimate(start, end + 1) <= maxTokens) end++;
  end = Math.max(end, covered + 1);
  if (end >= units.length) return units.length;
  for (let cut = end; cut > Math.max(start, covered); cut--) {
    if (estimate(start, cut) < PARAGRAPH_CUT_MIN_FILL * maxTokens) break;
    if (units[cut]!.paragraph !== units[cut - 1]!.paragraph) return cut;
  }
  return end;
}

/**
 * Where the next chunk starts: trailing sentences of this chunk adding up as close as possible to
 * overlap × maxTokens, never the whole chunk, and leaving room for at least the next new unit.
 */
function overlapStart(
  units: Unit[],
  start: number,
  end: number,
  { maxTokens, overlap }: ChunkOptions,
): number {
  if (end >= units.length) return end;
  const target = overlap * maxTokens;
  const room = maxTokens - units[end]!.tokens;
  let first = end;
  let repeated = 0;
  while (first - 1 > start) {
    const tokens = units[first - 1]!.tokens;
    if (repeated + tokens > room) break;
    if (Math.abs(repeated + tokens - target) >= Math.abs(repeated - target)) break;
    repeated += tokens;
    first--;
  }
  return first;
}

function joinUnits(units: Unit[], from: number, to: number): string {
  let text = units[from]!.text;
  for (let index = from + 1; index < to; index++) {
    const unit = units[index]!;
    const separator = unit.paragraph !== units[index - 1]!.paragraph ? '\n\n' : unit.glued ? '' : ' ';
    text += separator + unit.text;
  }
  return text;
}
