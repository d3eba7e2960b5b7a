export type DocumentKind = 'pdf' | 'markdown' | 'text';

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
// Text files hold tab, line feed, form feed and carriage return; other C0 controls and DEL mean binary data
// (C1 controls are let through: they are what mis-converted Windows-1252 text looks like, still text).
const BINARY_CONTROL = /[^\P{Cc}\t\n\f\r\u0080-\u009f]/u;

/**
 * Recognises an upload by its content, never by its name alone: a PDF by its "%PDF-" header within the first
 * 1024 bytes; text by being valid UTF-8 (a UTF-8 byte-order mark is fine) without NUL or other binary control
 * characters. UTF-16 text is not accepted. Among text files, a .md/.markdown name means Markdown; otherwise
 * Markdown is recognised by its syntax (headings, fences, links, lists...). Returns null for anything else,
 * including an empty file, which has nothing to ingest.
 */
export function detectDocumentKind(bytes: Uint8Array, filename: string): DocumentKind | null {
  if (bytes.length === 0) return null;
  if (hasPdfHeader(bytes)) return 'pdf';
  const text = decodeUtf8Text(bytes);
  if (text === null) return null;
  if (MARKDOWN_EXTENSIONS.test(filename)) return 'markdown';
  return looksLikeMarkdown(text.slice(0, MARKDOWN_SAMPLE_CHARS)) ? 'markdown' : 'text';
}

function hasPdfHeader(bytes: Uint8Array): boolean {
  const window = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, PDF_MAGIC_WINDOW));
  return window.includes(PDF_MAGIC);
}

function decodeUtf8Text(bytes: Uint8Array): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  return BINARY_CONTROL.test(text) ? null : text;
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
