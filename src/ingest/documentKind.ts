import { decodeText } from './textEncoding.ts';

export type DocumentKind = 'pdf' | 'markdown' | 'text';

/** What an upload is, or, when it is nothing Parley reads, what it looks like ("binary data", "windows-1251 (Russian) text"). */
export type Recognition = { kind: DocumentKind } | { kind: null; looksLike: string };

export const DOCUMENT_MIME: Record<DocumentKind, string> = {
  pdf: 'application/pdf',
  markdown: 'text/markdown',
  text: 'text/plain',
};

const PDF_MAGIC = '%PDF-';
// Readers accept the header anywhere in the first kilobyte (some generators prepend junk or a BOM).
const PDF_MAGIC_WINDOW = 1024;
const MARKDOWN_EXTENSIONS = /\.(md|markdown|mdown|mkd|mkdn)$/i;
// Markdown signals are judged on the start of the file: enough to tell, and cheap on a 10 MB upload.
const MARKDOWN_SAMPLE_CHARS = 64 * 1024;

/**
 * Recognises an upload by its content, never by its name alone: a PDF by its "%PDF-" header within the first
 * 1024 bytes; text by decoding as UTF-8, UTF-16 with a byte-order mark, or Windows-1252 / ISO-8859-1 without
 * NUL or other binary control characters (textEncoding.ts decides which). Among text files, a .md/.markdown
 * name means Markdown; otherwise Markdown is recognised by its syntax (headings, fences, links, lists...).
 * Anything else, an empty file included (it has nothing to ingest), is refused with what it looks like.
 */
export function recognizeDocument(bytes: Uint8Array, filename: string): Recognition {
  if (bytes.length === 0) return { kind: null, looksLike: 'an empty file' };
  if (hasPdfHeader(bytes)) return { kind: 'pdf' };
  const decoded = decodeText(bytes);
  if (!decoded.ok) return { kind: null, looksLike: decoded.looksLike };
  if (MARKDOWN_EXTENSIONS.test(filename)) return { kind: 'markdown' };
  return { kind: looksLikeMarkdown(decoded.text.slice(0, MARKDOWN_SAMPLE_CHARS)) ? 'markdown' : 'text' };
}

/** The kind alone, or null for anything that is not a document Parley reads. */
export function detectDocumentKind(bytes: Uint8Array, filename: string): DocumentKind | null {
  return recognizeDocument(bytes, filename).kind;
}

function hasPdfHeader(bytes: Uint8Array): boolean {
  const window = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, PDF_MAGIC_WINDOW));
  return window.includes(PDF_MAGIC);
}

// Each kind of Markdown syntax counts once, however often it appears; plain prose rarely scores 2 by accident.
const MARKDOWN_SIGNALS: { pattern: RegExp; weight: number }[] = [
  { pattern: /^ {0,3}#{1,6} +\S/m, weight: 2 }, // ATX heading
  { pattern: /^ {0,3}(```|~~~)/m, weight: 2 }, // fenced code
  { pattern: /!?\[[^\]\n]+\]\([^)\s]+(?: "[^"\n]*")?\)/, weight: 2 }, // inline link or image
  { pattern: /^ *\|?( *:?-{3,}:? *\|)+/m, weight: 2 }, // table delimiter row
  { pattern: /^\S.*\n {0,3}(=+|-{2,}) *$/m, weight: 1 }, // setext heading underline
  { pattern: /^ {0,3}([-*+]|\d{1,3}[.)]) +\S/m, weight: 1 }, // list item
  { pattern: /(\*\*|__)\S(.*?\S)?\1/, weight: 1 }, // strong emphasis
  { pattern: /^ {0,3}> ?\S/m, weight: 1 }, // block quote
  { pattern: /`[^`\n]+`/, weight: 1 }, // code span
];

function looksLikeMarkdown(sample: string): boolean {
  let score = 0;
  for (const { pattern, weight } of MARKDOWN_SIGNALS) {
    if (pattern.test(sample)) score += weight;
    if (score >= 2) return true;
  }
  return false;
}
