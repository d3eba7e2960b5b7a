import type { DocumentKind } from './documentKind.ts';
import { markdownToText } from './markdownText.ts';
import { normalizeWhitespace } from './normalizeWhitespace.ts';
import { extractPdfPages } from './pdfText.ts';
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
const NOT_UTF8 = 'The file could not be read as text; save it as UTF-8 and upload it again.';

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
  const source = decodeUtf8(bytes);
  const text = normalizeWhitespace(kind === 'markdown' ? markdownToText(source) : source);
  if (text === '') throw new UnreadableDocumentError('no_text', NO_TEXT_IN_FILE);
  return { pages: [{ page: null, text }], pageCount: null };
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    // The decoder drops a leading byte-order mark by itself.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new UnreadableDocumentError('corrupt', NOT_UTF8, { cause: error });
  }
}
