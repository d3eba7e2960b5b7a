import { getDocumentProxy } from 'unpdf';
import { UnreadableDocumentError } from './UnreadableDocumentError.ts';

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;
type PdfPage = Awaited<ReturnType<PdfDocument['getPage']>>;
type TextContentItem = Awaited<ReturnType<PdfPage['getTextContent']>>['items'][number];

const PDF_PASSWORD_MESSAGE = 'This PDF is password-protected; upload a copy without a password.';
const PDF_DAMAGED_MESSAGE = 'The file could not be read as a PDF; it may be damaged or incomplete.';

// pdf.js's own VerbosityLevel.ERRORS: keeps "Indexing all PDF objects" style warnings out of the logs.
const PDF_JS_ERRORS_ONLY = 0;

/** One visual line of a page, with its baseline height and font size, which reveal paragraph gaps. */
interface PositionedLine {
  text: string;
  y: number;
  fontSize: number;
}

/**
 * The raw text of every page (index 0 is page 1), one line per visual line and a blank line where the layout
 * shows a paragraph gap. Pages pdf.js cannot parse come back empty; if none can be parsed the file is damaged.
 */
export async function extractPdfPages(bytes: Uint8Array): Promise<string[]> {
  let document: PdfDocument;
  try {
    // pdf.js takes ownership of (transfers) the buffer it is given, so it gets a copy.
    document = await getDocumentProxy(new Uint8Array(bytes), { verbosity: PDF_JS_ERRORS_ONLY });
  } catch (error) {
    throw asUnreadable(error) ?? error;
  }
  try {
    const pages: string[] = [];
    let unparsablePages = 0;
    // One page at a time: pdf.js runs in this thread, so concurrency would only raise peak memory.
    for (let pageNumber = 1; pageNumber <= document.numPages; pageNumber++) {
      try {
        pages.push(await pageText(document, pageNumber));
      } catch (error) {
        if (!asUnreadable(error)) throw error;
        unparsablePages++;
        pages.push('');
      }
    }
    if (unparsablePages > 0 && unparsablePages === document.numPages)
      throw new UnreadableDocumentError('corrupt', PDF_DAMAGED_MESSAGE);
    return pages;
  } finally {
    await document.loadingTask.destroy();
  }
}

async function pageText(document: PdfDocument, pageNumber: number): Promise<string> {
  const page = await document.getPage(pageNumber);
  try {
    const content = await page.getTextContent();
    return joinLines(positionedLines(content.items));
  } finally {
    page.cleanup();
  }
}

function positionedLines(items: TextContentItem[]): PositionedLine[] {
  const lines: PositionedLine[] = [];
  let current: PositionedLine | undefined;
  for (const item of items) {
    if (!('str' in item)) continue; // marked-content boundaries carry no text
    if (item.str !== '') {
      const [, , c, d, , y] = item.transform as number[];
      const fontSize = Math.hypot(c ?? 0, d ?? 0) || item.height;
      current ??= { text: '', y: y ?? 0, fontSize };
      current.text += item.str;
      current.fontSize = Math.max(current.fontSize, fontSize);
    }
    if (item.hasEOL && current) {
      lines.push(current);
      current = undefined;
    }
  }
  if (current) lines.push(current);
  return lines.filter((line) => line.text.trim() !== '');
}

/**
 * pdf.js reports lines but not paragraphs. A baseline gap clearly wider than the page's usual line spacing
 * (or a jump upwards, as into the next column) is taken as a paragraph break, which the chunker relies on.
 */
function joinLines(lines: PositionedLine[]): string {
  const gaps = lines.slice(1).map((line, index) => lines[index]!.y - line.y);
  const usualGap = lowerMedian(gaps.filter((gap, index) => gap > 0 && gap <= 3 * lines[index]!.fontSize));
  let text = lines[0]?.text ?? '';
  for (const [index, gap] of gaps.entries()) {
    const line = lines[index + 1]!;
    const paragraphGap = usualGap === undefined ? 1.8 * line.fontSize : 1.4 * usualGap;
    const newParagraph = gap > paragraphGap || gap < -line.fontSize;
    text += (newParagraph ? '\n\n' : '\n') + line.text;
  }
  return text;
}

/** The lower median: with few lines, half of them may be paragraph gaps, and line spacing is the smaller. */
function lowerMedian(values: number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * pdf.js names its errors, and rebuilds them by name when they cross from its worker, so names are what can be
 * relied on. Parser errors other than the two it exposes arrive as UnknownErrorException, with the original
 * error's `toString()` as details. Anything else (memory, bugs) is left to propagate: it may be transient.
 */
function asUnreadable(error: unknown): UnreadableDocumentError | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'PasswordException')
    return new UnreadableDocumentError('encrypted', PDF_PASSWORD_MESSAGE, { cause: error });
  if (error.name === 'InvalidPDFException')
    return new UnreadableDocumentError('corrupt', PDF_DAMAGED_MESSAGE, { cause: error });
  const details = (error as { details?: unknown }).details;
  if (
    error.name === 'UnknownErrorException' &&
    typeof details === 'string' &&
    /^(FormatError|XRef\w*Exception)\b/.test(details)
  )
    return new UnreadableDocumentError('corrupt', PDF_DAMAGED_MESSAGE, { cause: error });
  return undefined;
}
