import { analyse, type Match } from 'chardet';

/**
 * Which character encoding an uploaded text file is in, and its text. Files saved by older Windows
 * editors are Windows-1252 (or its subset ISO-8859-1) rather than UTF-8, and UTF-16 with a byte-order
 * mark is what "Unicode" means in Notepad; refusing those would turn away ordinary documents. The
 * upload check (documentKind.ts) and the ingest worker (parseDocument.ts) both decide here, on the same
 * bytes, so they can never disagree.
 *
 * The decision, in order:
 * 1. A byte-order mark decides: UTF-8, UTF-16LE or UTF-16BE (UTF-32 is refused).
 * 2. Valid UTF-8 is UTF-8 (plain ASCII included), unless NUL bytes at every other position say it is
 *    UTF-16 without a byte-order mark, which is refused: its byte order would be a guess.
 * 3. UTF-8 with a few damaged bytes (more well-formed multi-byte sequences than stray bytes) is refused.
 * 4. Otherwise Windows-1252 when it is confidently that: every byte is defined in Windows-1252, no
 *    binary control characters, the decoded text reads like Western European text (no run of three
 *    non-ASCII letters, no symbol wedged between letters: what Cyrillic, Greek or Central European
 *    text looks like when misread as Windows-1252), and the statistical detector (chardet) does not
 *    clearly prefer another encoding (see RIVAL_FLOOR). Short Central European or Turkish text without
 *    tell-tale letters can still pass as Windows-1252: no detector tells "Pøijdu" from a Danish word. A statistical detector alone cannot be confident on a short
 *    note ("café naïve" scores equally as Polish and Turkish), which is why the shape of the decoded
 *    text counts as much as its score.
 * Anything else is refused with what it looks like ("windows-1251 (Russian)", "binary data").
 */

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252' | 'iso-8859-1';

export type DecodedText =
  | { ok: true; text: string; encoding: TextEncoding }
  | { ok: false; looksLike: string };

// Text holds tab, line feed, form feed and carriage return; other C0 controls and DEL mean binary data
// (C1 controls are let through in Unicode text: they are what mis-converted Windows-1252 looks like).
const BINARY_CONTROL = /[^\P{Cc}\t\n\f\r\u0080-\u009f]/u;
// The five bytes Windows-1252 leaves undefined (TextDecoder would map them to C1 controls).
const UNDEFINED_IN_1252 = [0x81, 0x8d, 0x8f, 0x90, 0x9d];
// Bytes the detector and the UTF-16 check look at: enough to tell, and cheap on a 10 MB upload.
const SAMPLE_BYTES = 64 * 1024;
// chardet's confidence (0-100) does not grow with the length of the text: on a page of Turkish it says
// windows-1254 at 37, on a short French note ISO-8859-1 at 37 and ISO-8859-2 at 36. So another encoding
// outweighs a clean Windows-1252 reading from this score on, and only when it leads by the margin.
const RIVAL_FLOOR = 30;
const RIVAL_MARGIN = 10;
const WESTERN = new Set<string>(['ISO-8859-1', 'windows-1252']);
const NON_ASCII_LETTER_RUN = /[^\p{ASCII}\P{L}]{3}/u;
// A non-ASCII symbol between two letters ("Za¿ó³æ"), apostrophes, middle dot and dashes excepted.
const SYMBOL_INSIDE_WORD = /\p{L}[^\p{ASCII}\p{L}\u2018\u2019\u00b7\u00a0\u2013\u2014]\p{L}/u;
const LANGUAGES = new Intl.DisplayNames(['en'], { type: 'language' });

export function decodeText(bytes: Uint8Array): DecodedText {
  const bom = byteOrderMark(bytes);
  if (bom === 'utf-32') return { ok: false, looksLike: 'UTF-32 text' };
  if (bom) return checked(bytes, bom, `${bom.toUpperCase()} text that is damaged`);

  const sample = bytes.subarray(0, SAMPLE_BYTES);
  const nulls = nullPattern(sample);
  if (nulls === 'utf-16') return { ok: false, looksLike: 'UTF-16 text without a byte-order mark' };
  if (nulls === 'binary') return { ok: false, looksLike: 'binary data' };

  const utf8 = strictDecode(bytes, 'utf-8');
  if (utf8 !== null) return acceptIfText(utf8, 'utf-8');
  return decodeLegacy(bytes, sample);
}

function byteOrderMark(bytes: Uint8Array): 'utf-8' | 'utf-16le' | 'utf-16be' | 'utf-32' | null {
  const [a, b, c, d] = bytes;
  if (a === 0xef && b === 0xbb && c === 0xbf) return 'utf-8';
  if ((a === 0xff && b === 0xfe && c === 0 && d === 0) || (a === 0 && b === 0 && c === 0xfe && d === 0xff))
    return 'utf-32';
  if (a === 0xff && b === 0xfe) return 'utf-16le';
  if (a === 0xfe && b === 0xff) return 'utf-16be';
  return null;
}

/** The decoder drops the byte-order mark itself (`ignoreBOM` is false by default). */
function strictDecode(bytes: Uint8Array, encoding: string): string | null {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

function checked(
  bytes: Uint8Array,
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be',
  damaged: string,
): DecodedText {
  const text = strictDecode(bytes, encoding);
  return text === null ? { ok: false, looksLike: damaged } : acceptIfText(text, encoding);
}

function acceptIfText(text: string, encoding: TextEncoding): DecodedText {
  return BINARY_CONTROL.test(text) ? { ok: false, looksLike: 'binary data' } : { ok: true, text, encoding };
}

/**
 * NUL bytes never occur in text. Mostly on one parity (every other byte), they are the high bytes of
 * UTF-16 code units of Latin text; anywhere else, binary data.
 */
function nullPattern(sample: Uint8Array): 'utf-16' | 'binary' | null {
  let even = 0;
  let odd = 0;
  for (let index = 0; index < sample.length; index++) {
    if (sample[index] !== 0) continue;
    if (index % 2 === 0) even++;
    else odd++;
  }
  const total = even + odd;
  if (total === 0) return null;
  const units = sample.length / 2;
  return Math.max(even, odd) >= units * 0.3 && Math.min(even, odd) <= total * 0.05 ? 'utf-16' : 'binary';
}

function decodeLegacy(bytes: Uint8Array, sample: Uint8Array): DecodedText {
  const matches = analyse(sample).filter(
    (match) => match.confidence > 0 && !/^(ASCII|UTF-8)$/.test(match.name),
  );
  const rival = matches.find((match) => !WESTERN.has(match.name));
  const refused = (): DecodedText => ({
    ok: false,
    looksLike: rival ? describe(rival) : 'text in an unknown encoding',
  });

  if (looksLikeDamagedUtf8(sample)) return { ok: false, looksLike: 'UTF-8 text that is damaged' };
  const c1 = c1Bytes(bytes);
  if (c1 === 'undefined') return refused();
  // WHATWG (and so TextDecoder) decodes ISO-8859-1 as Windows-1252, its superset.
  const text = new TextDecoder('windows-1252').decode(bytes);
  if (BINARY_CONTROL.test(text)) return { ok: false, looksLike: 'binary data' };
  // The shape is judged on the sample, like the score: the patterns are slow on megabytes.
  const start = new TextDecoder('windows-1252').decode(sample);
  if (NON_ASCII_LETTER_RUN.test(start) || SYMBOL_INSIDE_WORD.test(start)) return refused();
  const western = matches.find((match) => WESTERN.has(match.name))?.confidence ?? 0;
  if (rival && rival.confidence >= RIVAL_FLOOR && rival.confidence >= western + RIVAL_MARGIN)
    return refused();
  return { ok: true, text, encoding: c1 ? 'windows-1252' : 'iso-8859-1' };
}

/** Whether bytes 0x80-0x9f occur (Windows-1252 punctuation, absent from ISO-8859-1), and any undefined one. */
function c1Bytes(bytes: Uint8Array): boolean | 'undefined' {
  let found = false;
  for (const byte of bytes) {
    if (byte < 0x80 || byte > 0x9f) continue;
    if (UNDEFINED_IN_1252.includes(byte)) return 'undefined';
    found = true;
  }
  return found;
}

/**
 * UTF-8 cut or patched with a stray byte still holds well-formed multi-byte sequences, and more of them
 * than stray bytes; Windows-1252 text almost never does (a sequence would be "Ã©" or "Â«", mojibake itself).
 */
function looksLikeDamagedUtf8(sample: Uint8Array): boolean {
  let wellFormed = 0;
  let stray = 0;
  let index = 0;
  while (index < sample.length) {
    const lead = sample[index]!;
    if (lead < 0x80) {
      index++;
      continue;
    }
    const length =
      lead >= 0xc2 && lead <= 0xdf
        ? 2
        : lead >= 0xe0 && lead <= 0xef
          ? 3
          : lead >= 0xf0 && lead <= 0xf4
            ? 4
            : 0;
    let continuation = 1;
    while (continuation < length && (sample[index + continuation]! & 0xc0) === 0x80) continuation++;
    if (length > 0 && continuation === length) {
      wellFormed++;
      index += length;
    } else {
      stray++;
      index++;
    }
  }
  return wellFormed > 0 && wellFormed >= stray;
}

function describe(match: Match): string {
  const language = match.lang ? LANGUAGES.of(match.lang) : undefined;
  return language ? `${match.name} (${language}) text` : `${match.name} text`;
}
