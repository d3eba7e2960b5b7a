import type { DocumentKind } from './documentKind.ts';
import { markdownToText } from './markdownText.ts';
import { normalizeWhitespace } from './normalizeWhitespace.ts';
import { extractPdfPages } from './pdfText.ts';
import { decodeText } from './textEncoding.ts';
import { UnreadableDocumentError } from './UnreadableDocumentError.ts';

export { UnreadableDocumentError, type UnreadableReason } from './UnreadableDocumentError.ts';

/** `page` is 1-based for PDFs and null for text and Markdown, which have no pages. */
export interface ParsedPage {
  page: number | null;
  text: string;
}

/** Only pages with text are listed; `pageCount` counts every page of a PDF (null for text and Markdown). */
export interface ParsedDocument {
  pages: ParsedPage[];
  pageCount: number | null;
}

const NO_TEXT_IN_PDF = 'No extractable text: the document looks scanned or empty.';
const NO_TEXT_IN_FILE = 'The file contains no text.';
const notText = (looksLike: string) =>
  `The file could not be read as text (it looks like ${looksLike}); save it as UTF-8 and upload it again.`;

/**
 * Extracts normalised text (paragraphs separated by one blank line) from an upload of a known kind.
 * Throws UnreadableDocumentError when the file itself can never yield text (password, damage, no text);
 * other errors propagate unchanged, since they may be transient.
 */
export async function parseDocument(bytes: Uint8Array, kind: DocumentKind): Promise<ParsedDocument> {
  if (kind === 'pdf') {
    const pageTexts = await extractPdfPages(bytes);
    const pages = pageTexts
      .map((text, index) => ({
        page: index + 1,
        text: normalizeWhitespace(text, { joinHyphenatedLines: true }),
      }))
      .filter((page) => page.text !== '');
    if (pages.length === 0) throw new UnreadableDocumentError('no_text', NO_TEXT_IN_PDF);
    return { pages, pageCount: pageTexts.length };
  }
  const source = decodeDocumentText(bytes);
  const text = normalizeWhitespace(kind === 'markdown' ? markdownToText(source) : source);
  if (text === '') throw new UnreadableDocumentError('no_text', NO_TEXT_IN_FILE);
  return { pages: [{ page: null, text }], pageCount: null };
}

/** UTF-8, UTF-16 with a byte-order mark, or Windows-1252: the same decision as at upload (textEncoding.ts). */
function decodeDocumentText(bytes: Uint8Array): string {
  const decoded = decodeText(bytes);
  if (!decoded.ok) throw new UnreadableDocumentError('corrupt', notText(decoded.looksLike));
  return decoded.text;
}
