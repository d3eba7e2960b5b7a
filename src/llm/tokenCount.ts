import llama3Tokenizer from 'llama3-tokenizer-js';

/**
 * llama3-tokenizer-js' pretokenizer (its CLEAN_LLAMA3_REGEX_STRING): BPE never merges across
 * these pieces, so a text's count is the sum of its pieces' counts.
 */
const PRETOKEN =
  /(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
const PIECE_CACHE_LIMIT = 50_000;
const pieceCounts = new Map<string, number>();

const encodedLength = (text: string) => llama3Tokenizer.encode(text, { bos: false, eos: false }).length;

const pieceCount = (piece: string): number => {
  let count = pieceCounts.get(piece);
  if (count === undefined) {
    count = encodedLength(piece);
    if (pieceCounts.size >= PIECE_CACHE_LIMIT) pieceCounts.clear();
    pieceCounts.set(piece, count);
  }
  return count;
};

/**
 * Llama 3's own BPE (the models Groq serves by default), not characters divided by four. Counted
 * piece by piece with a per-process cache of each piece's count: the same as encoding the whole
 * text (test/unit/tokenCount.test.ts), without re-encoding every word of every answer — which was
 * ~6 µs of worker CPU per relayed token (docs/benchmarks.md, relay). Text that may hold special
 * tokens (`<|…|>`) goes to the tokenizer whole.
 */
export const countTokens = (text: string): number => {
  if (text.includes('<|')) return encodedLength(text);
  let count = 0;
  let previous = 0;
  for (const match of text.matchAll(PRETOKEN)) {
    if (previous < match.index) count += pieceCount(text.slice(previous, match.index));
    if (match[0].length > 0) count += pieceCount(match[0]);
    previous = match.index + match[0].length;
  }
  if (previous < text.length) count += pieceCount(text.slice(previous));
  return count;
};
/** Each chat message costs its text plus the role header and end-of-turn markers (4 tokens). */
export const MESSAGE_OVERHEAD_TOKENS = 4;

export const messageTokens = (content: string) => countTokens(content) + MESSAGE_OVERHEAD_TOKENS;
