import { fileURLToPath } from 'node:url';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { expect } from 'chai';
import { getDocumentProxy } from 'unpdf';
import { type ChunkOptions, chunkDocument, type TextChunk } from '../../src/ingest/chunker.ts';
import { detectDocumentKind, recognizeDocument } from '../../src/ingest/documentKind.ts';
import { normalizeWhitespace } from '../../src/ingest/normalizeWhitespace.ts';
import {
  type ParsedDocument,
  parseDocument,
  UnreadableDocumentError,
  type UnreadableReason,
} from '../../src/ingest/parseDocument.ts';
import { splitSentences } from '../../src/ingest/sentences.ts';
import { decodeText } from '../../src/ingest/textEncoding.ts';
import { encodeLatin1, encodeSingleByte, encodeUtf16 } from '../support/legacyText.ts';
import { makeCorruptPdf, makeEncryptedPdf, makeImageOnlyPdf, makeTextPdf } from '../support/pdfFactory.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);
const bytes = (...values: number[]) => Uint8Array.from(values);
const countWords = (text: string) => text.split(/\s+/).filter((word) => word !== '').length;

async function unreadable(parsing: Promise<unknown>): Promise<UnreadableDocumentError> {
  try {
    await parsing;
  } catch (error) {
    expect(error).to.be.instanceOf(UnreadableDocumentError);
    return error as UnreadableDocumentError;
  }
  return expect.fail('expected an UnreadableDocumentError');
}

const unreadableReason = async (parsing: Promise<unknown>): Promise<UnreadableReason> =>
  (await unreadable(parsing)).reason;

describe('ingest: detectDocumentKind', () => {
  const pdf = makeTextPdf([['Hello']]);
  const cases: [string, Uint8Array, string, string | null][] = [
    ['a PDF', pdf, 'report.pdf', 'pdf'],
    ['a PDF whatever its name', pdf, 'report.txt', 'pdf'],
    ['a PDF header after a small preamble', new Uint8Array([...utf8('garbage\r\n'), ...pdf]), 'x.pdf', 'pdf'],
    ['plain text', utf8('Just a note.\nSecond line.\n'), 'note.txt', 'text'],
    ['text with a UTF-8 byte-order mark', utf8('\ufeffNotes from the meeting.'), 'note.txt', 'text'],
    ['multi-byte UTF-8 text', utf8('Grüße aus Zürich, 東京の天気, 🎉 party.'), 'note.txt', 'text'],
    [
      'Markdown by its syntax under a .txt name',
      utf8('# Setup\n\nRun `npm start` and read [the docs](https://example.com).\n'),
      'readme.txt',
      'markdown',
    ],
    ['Markdown by its .md name, even without syntax', utf8('Plain words only.'), 'notes.md', 'markdown'],
    [
      'text whose only list would not make it Markdown',
      utf8('Shopping:\n- milk\n- bread\n'),
      'list.txt',
      'text',
    ],
    [
      'a Windows executable renamed .pdf',
      bytes(0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00),
      'x.pdf',
      null,
    ],
    ['PNG bytes', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00), 'photo.txt', null],
    ['a zip (docx) archive', bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00), 'doc.docx', null],
    ['UTF-8 cut inside a character', utf8('Grüße aus Zü').subarray(0, -1), 'note.txt', null],
    [
      'a lone byte that is not UTF-8 (Windows-1252 "Ã")',
      bytes(0x48, 0x69, 0x20, 0xc3, 0x28, 0x21),
      'note.txt',
      'text',
    ],
    ['UTF-16 text with a byte-order mark', bytes(0xff, 0xfe, 0x48, 0x00, 0x69, 0x00), 'note.txt', 'text'],
    [
      'UTF-16 text without a byte-order mark',
      encodeUtf16('Hello there', 'le', { bom: false }),
      'note.txt',
      null,
    ],
    [
      'Windows-1252 Markdown',
      encodeSingleByte('# Café\n\nNaïve – 5 €.\n', 'windows-1252'),
      'x.txt',
      'markdown',
    ],
    ['text with binary control characters', utf8('abc\u0001\u0002def'), 'note.txt', null],
    ['an empty file', new Uint8Array(0), 'empty.txt', null],
  ];
  for (const [description, content, filename, expected] of cases) {
    it(`${description} → ${expected}`, () => {
      expect(detectDocumentKind(content, filename)).to.equal(expected);
    });
  }

  it('ignores a PDF header beyond the first kilobyte', () => {
    expect(detectDocumentKind(utf8(`${'x'.repeat(1100)}%PDF-1.4`), 'x.pdf')).to.equal('text');
  });

  it('decides on a 10 MB text', () => {
    const large = utf8('A line of ordinary prose, repeated to fill ten megabytes.\n'.repeat(180_000));
    expect(detectDocumentKind(large, 'big.txt')).to.equal('text');
  });
});

describe('ingest: parseDocument', () => {
  it('keeps the page numbers and text of a PDF, with paragraph breaks', async () => {
    const pdf = makeTextPdf([
      ['The first page opens here.', 'It continues on a second line.', '', 'A new paragraph (with parens).'],
      ['Page two says hello.'],
      ['Page three ends it \\ politely.'],
    ]);
    const parsed = await parseDocument(pdf, 'pdf');
    expect(parsed.pageCount).to.equal(3);
    expect(parsed.pages).to.deep.equal([
      {
        page: 1,
        text: 'The first page opens here.\nIt continues on a second line.\n\nA new paragraph (with parens).',
      },
      { page: 2, text: 'Page two says hello.' },
      { page: 3, text: 'Page three ends it \\ politely.' },
    ]);
  });

  it('joins words hyphenated across PDF lines and leaves the input bytes untouched', async () => {
    const pdf = makeTextPdf([['An exam-', 'ple of hyphen-', 'ation in Jean-', "Pierre's text."]]);
    const copy = new Uint8Array(pdf);
    const parsed = await parseDocument(pdf, 'pdf');
    expect(parsed.pages[0]!.text).to.equal("An example of hyphenation in Jean-\nPierre's text.");
    expect(pdf).to.deep.equal(copy);
  });

  it('reads a 250-page PDF in page order', async () => {
    const pages = Array.from({ length: 250 }, (_, page) =>
      Array.from({ length: 30 }, (_, line) => `Page ${page + 1} line ${line + 1} of a long report.`),
    );
    const parsed = await parseDocument(makeTextPdf(pages), 'pdf');
    expect(parsed.pageCount).to.equal(250);
    expect(parsed.pages.map((page) => page.page)).to.deep.equal(pages.map((_, index) => index + 1));
    expect(parsed.pages[249]!.text.split('\n').at(-1)).to.equal('Page 250 line 30 of a long report.');
  });

  it('lists only pages with text but counts them all', async () => {
    const parsed = await parseDocument(makeTextPdf([['First.'], [], ['Third.']]), 'pdf');
    expect(parsed.pageCount).to.equal(3);
    expect(parsed.pages.map((page) => page.page)).to.deep.equal([1, 3]);
  });

  it('reports a password-protected PDF as encrypted', async () => {
    const error = await unreadable(parseDocument(makeEncryptedPdf(), 'pdf'));
    expect(error.reason).to.equal('encrypted');
    expect(error.message).to.equal('This PDF is password-protected; upload a copy without a password.');
  });

  it('makes an encrypted PDF that opens with its password (so the factory is sound)', async () => {
    const pdf = await getDocumentProxy(makeEncryptedPdf([['Top secret.']], 'letmein'), {
      password: 'letmein',
      verbosity: 0,
    });
    try {
      const content = await (await pdf.getPage(1)).getTextContent();
      expect(content.items.map((item) => ('str' in item ? item.str : '')).join('')).to.equal('Top secret.');
    } finally {
      await pdf.loadingTask.destroy();
    }
  });

  it('reports a damaged or truncated PDF as corrupt', async () => {
    expect(await unreadableReason(parseDocument(makeCorruptPdf(), 'pdf'))).to.equal('corrupt');
    const whole = makeTextPdf([['Some text that will be cut off.']]);
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));
    expect(await unreadableReason(parseDocument(truncated, 'pdf'))).to.equal('corrupt');
  });

  it('reports a PDF of images only as having no text', async () => {
    const error = await unreadable(parseDocument(makeImageOnlyPdf(2), 'pdf'));
    expect(error.reason).to.equal('no_text');
    expect(error.message).to.equal('No extractable text: the document looks scanned or empty.');
  });

  it('normalises the whitespace of plain text', async () => {
    const source =
      'Cafe\u0301\tau\u00a0lait  here.   \r\nNext line.\r\n\r\n\r\n\r\n  Second paragraph.\u200b  \n';
    const parsed = await parseDocument(utf8(source), 'text');
    expect(parsed).to.deep.equal({
      pages: [{ page: null, text: 'Café au lait here.\nNext line.\n\nSecond paragraph.' }],
      pageCount: null,
    });
  });

  it('turns Markdown into readable prose', async () => {
    const markdown = [
      '---',
      'title: Guide',
      '---',
      '# Getting *started* #',
      '',
      'Read **the** [manual](https://example.com/m "Manual") and ![a diagram](d.png) <b>now</b>.',
      'Keep `snake_case *names*` and 2 * 3 * 4 as they are; \\*literal stars\\* &amp; entities.',
      '',
      '```ts',
      'const answer = 42; // **not bold**',
      '```',
      '',
      '> Quoted _wisdom_.',
      '- first item',
      '1. numbered item',
      '<!-- hidden note -->',
      '[manual]: https://example.com/m',
    ].join('\n');
    const parsed = await parseDocument(utf8(markdown), 'markdown');
    expect(parsed.pages[0]!.text).to.equal(
      [
        'Getting started',
        '',
        'Read the manual and a diagram now.',
        'Keep snake_case *names* and 2 * 3 * 4 as they are; *literal stars* & entities.',
        '',
        'const answer = 42; // **not bold**',
        '',
        'Quoted wisdom.',
        'first item',
        '1. numbered item',
      ].join('\n'),
    );
  });

  it('reads Windows-1252, ISO-8859-1 and UTF-16 text and Markdown like their UTF-8 twins', async () => {
    const source = '# Menu\n\nCafé naïve – 5 €, “crème brûlée”.\n\n- œufs à la neige\n';
    const twin = await parseDocument(utf8(source), 'markdown');
    for (const encoded of [
      encodeSingleByte(source, 'windows-1252'),
      encodeUtf16(source, 'le'),
      encodeUtf16(source, 'be'),
    ]) {
      expect(await parseDocument(encoded, 'markdown')).to.deep.equal(twin);
    }
    const latin1 = 'Grüße aus Zürich, señor.';
    expect(await parseDocument(encodeLatin1(latin1), 'text')).to.deep.equal(
      await parseDocument(utf8(latin1), 'text'),
    );
  });

  it('reports text files without text, and text that is not UTF-8', async () => {
    expect(await unreadableReason(parseDocument(utf8(' \n\t\n '), 'text'))).to.equal('no_text');
    expect(await unreadableReason(parseDocument(utf8('---\ntitle: x\n---\n'), 'markdown'))).to.equal(
      'no_text',
    );
    expect(await unreadableReason(parseDocument(utf8('Grüße aus Zü').subarray(0, -1), 'text'))).to.equal(
      'corrupt',
    );
    const russian = await unreadable(parseDocument(encodeSingleByte(RUSSIAN, 'windows-1251'), 'text'));
    expect(russian.reason).to.equal('corrupt');
    expect(russian.message).to.include('windows-1251 (Russian)').and.include('UTF-8');
  });
});

const RUSSIAN = 'Привет, мир! Как дела сегодня? Мы идём в кино вечером, а потом домой.\n';

describe('ingest: decodeText (character encodings)', () => {
  const sample = 'café naïve – €';

  it('reads the same note in Windows-1252, ISO-8859-1 and UTF-16LE/BE with a byte-order mark', () => {
    expect(decodeText(encodeSingleByte(sample, 'windows-1252'))).to.deep.equal({
      ok: true,
      text: sample,
      encoding: 'windows-1252',
    });
    // No byte in 0x80-0x9f: nothing says Windows-1252 rather than its subset ISO-8859-1.
    expect(decodeText(encodeLatin1('café naïve'))).to.deep.equal({
      ok: true,
      text: 'café naïve',
      encoding: 'iso-8859-1',
    });
    expect(decodeText(encodeUtf16(sample, 'le'))).to.deep.equal({
      ok: true,
      text: sample,
      encoding: 'utf-16le',
    });
    expect(decodeText(encodeUtf16(sample, 'be'))).to.deep.equal({
      ok: true,
      text: sample,
      encoding: 'utf-16be',
    });
  });

  it('takes valid UTF-8 as UTF-8, even when it would also read as Windows-1252', () => {
    // "Ã©" is two valid Windows-1252 characters and one UTF-8 "é": UTF-8 wins.
    expect(decodeText(utf8(sample))).to.deep.equal({ ok: true, text: sample, encoding: 'utf-8' });
    expect(decodeText(utf8('\ufeffplain'))).to.deep.equal({ ok: true, text: 'plain', encoding: 'utf-8' });
  });

  it('reads longer Western European text of each kind', () => {
    for (const text of [
      'Grüße aus München. Die Bäume blühen, und das Mädchen läuft über die Straße.\n',
      'El niño comió piña en la mañana; ¿qué pasó después? ¡Olé!\n',
      'Très bien, l’élève a répondu « oui » à la question. Où est la forêt ?\n'.repeat(2_000),
      'Þetta er íslenskur texti. Ég á heima í Reykjavík og það er gaman að læra.\n',
    ]) {
      const decoded = decodeText(encodeSingleByte(text, 'windows-1252'));
      expect(decoded, text.slice(0, 30)).to.deep.include({ ok: true, text });
    }
  });

  it('refuses what is confidently another encoding, naming it', () => {
    const cases: [Uint8Array, string][] = [
      [encodeSingleByte(RUSSIAN, 'windows-1251'), 'windows-1251 (Russian) text'],
      [
        encodeSingleByte('Καλημέρα κόσμε, τι κάνεις σήμερα; Όλα καλά.\n'.repeat(5), 'iso-8859-7'),
        'ISO-8859-7 (Greek) text',
      ],
      [
        encodeSingleByte(
          'Dzień dobry, chciałbym zamówić stolik na dziś wieczór. Będę z żoną.\n',
          'windows-1250',
        ),
        'windows-1250 (Polish) text',
      ],
      [
        encodeSingleByte(
          'Türkçe öğrenmek çok güzel, şimdi başlıyoruz. Yarın İstanbul’a gideceğiz ve orada ağabeyimle buluşacağız.\n',
          'windows-1254',
        ),
        'windows-1254 (Turkish) text',
      ],
      [encodeUtf16('Hello there, café', 'le', { bom: false }), 'UTF-16 text without a byte-order mark'],
      [bytes(0xff, 0xfe, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00), 'UTF-32 text'],
      [bytes(0xff, 0xfe, 0x48, 0x00, 0x69), 'UTF-16LE text that is damaged'],
      [utf8('Grüße aus Zü').subarray(0, -1), 'UTF-8 text that is damaged'],
      [bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00), 'binary data'],
    ];
    for (const [encoded, looksLike] of cases) {
      expect(decodeText(encoded), looksLike).to.deep.equal({ ok: false, looksLike });
    }
  });

  it('names what an unreadable upload looks like', () => {
    expect(recognizeDocument(encodeSingleByte(RUSSIAN, 'windows-1251'), 'notes.txt')).to.deep.equal({
      kind: null,
      looksLike: 'windows-1251 (Russian) text',
    });
    expect(recognizeDocument(new Uint8Array(0), 'empty.txt')).to.deep.equal({
      kind: null,
      looksLike: 'an empty file',
    });
  });

  it('decides on a 10 MB Windows-1252 text', () => {
    const large = encodeSingleByte(
      'Le café était fermé, la serveuse naïve a dit « à demain ».\n'.repeat(180_000),
      'windows-1252',
    );
    expect(detectDocumentKind(large, 'big.txt')).to.equal('text');
  });
});

describe('ingest: normalizeWhitespace and splitSentences', () => {
  it('joins only lower-case hyphenated line breaks, and only when asked', () => {
    const text = 'exam-\nple and Jean-\nPierre and 2020-\n2021';
    expect(normalizeWhitespace(text, { joinHyphenatedLines: true })).to.equal(
      'example and Jean-\nPierre and 2020-\n2021',
    );
    expect(normalizeWhitespace(text)).to.equal(text);
  });

  it('splits sentences at terminators but not after abbreviations, initials or list numbers', () => {
    const paragraph =
      'Dr. Smith met J. Jones, e.g. at noon. Did it rain? Yes! It did... and then stopped.\n' +
      '2. Next step. 東京は大きい。大阪も大きい。 "Quoted." Done';
    expect(splitSentences(paragraph)).to.deep.equal([
      'Dr. Smith met J. Jones, e.g. at noon.',
      'Did it rain?',
      'Yes!',
      'It did... and then stopped.',
      '2. Next step.',
      '東京は大きい。',
      '大阪も大きい。',
      '"Quoted."',
      'Done',
    ]);
  });
});

/** A document whose sentences are all different, so each can be found again in the chunks. */
function numberedDocument(pageCount: number, paragraphsPerPage: number, sentencesPerParagraph: number) {
  const sentencePages = new Map<string, number>();
  const pages = Array.from({ length: pageCount }, (_, pageIndex) => {
    const paragraphs = Array.from({ length: paragraphsPerPage }, (_, paragraphIndex) =>
      Array.from({ length: sentencesPerParagraph }, (_, sentenceIndex) => {
        const words = 'about queues workers and the weather'.split(' ').slice(0, 2 + (sentenceIndex % 5));
        const sentence = `Sentence p${pageIndex + 1}-${paragraphIndex}-${sentenceIndex} is ${words.join(' ')}.`;
        sentencePages.set(sentence, pageIndex + 1);
        return sentence;
      }).join(' '),
    );
    return { page: pageIndex + 1, text: paragraphs.join('\n\n') };
  });
  return { document: { pages, pageCount } as ParsedDocument, sentencePages };
}

function expectChunkInvariants(
  chunks: TextChunk[],
  options: ChunkOptions,
  sentencePages: Map<string, number>,
) {
  expect(chunks.map((chunk) => chunk.ordinal)).to.deep.equal(chunks.map((_, index) => index));
  for (const chunk of chunks) {
    expect(chunk.tokenCount).to.equal(options.countTokens(chunk.content));
    expect(chunk.tokenCount).to.be.at.most(options.maxTokens);
    const firstSentence = splitSentences(chunk.content)[0]!;
    expect(chunk.page, `page of "${firstSentence}"`).to.equal(sentencePages.get(firstSentence));
  }
  const everything = chunks.map((chunk) => chunk.content).join('\n');
  for (const sentence of sentencePages.keys()) expect(everything).to.include(sentence);
}

function expectOverlap(chunks: TextChunk[]) {
  for (const [index, chunk] of chunks.slice(1).entries()) {
    const previous = chunks[index]!;
    const firstSentence = splitSentences(chunk.content)[0]!;
    expect(previous.content, `chunk ${index + 1} starts with a sentence of chunk ${index}`).to.include(
      firstSentence,
    );
    expect(previous.content.endsWith(chunk.content)).to.equal(false);
  }
}

describe('ingest: chunkDocument', () => {
  const wordOptions: ChunkOptions = { maxTokens: 40, overlap: 0.2, countTokens: countWords };

  it('packs sentences into chunks within the limit, with overlap, covering everything', () => {
    const { document, sentencePages } = numberedDocument(3, 3, 6);
    const chunks = chunkDocument(document, wordOptions);
    expect(chunks.length).to.be.greaterThan(3);
    expectChunkInvariants(chunks, wordOptions, sentencePages);
    expectOverlap(chunks);
  });

  it('repeats nothing without overlap and keeps the order of the text', () => {
    const { document, sentencePages } = numberedDocument(2, 2, 7);
    const options = { ...wordOptions, overlap: 0 };
    const chunks = chunkDocument(document, options);
    expectChunkInvariants(chunks, options, sentencePages);
    const sentences = chunks.flatMap((chunk) => splitSentences(chunk.content));
    expect(sentences).to.deep.equal([...sentencePages.keys()]);
  });

  it('prefers to end chunks at paragraph breaks', () => {
    // Paragraphs of about 60% of the limit: two never fit, so every chunk should end where a paragraph does.
    const paragraphs = Array.from({ length: 6 }, (_, paragraph) =>
      Array.from({ length: 4 }, (_, sentence) => `Paragraph ${paragraph} sentence ${sentence} ends.`).join(
        ' ',
      ),
    );
    const chunks = chunkDocument(
      { pages: [{ page: null, text: paragraphs.join('\n\n') }], pageCount: null },
      { maxTokens: 28, overlap: 0.1, countTokens: countWords },
    );
    for (const chunk of chunks) expect(chunk.content).to.match(/sentence 3 ends\.$/);
  });

  it('cuts sentences longer than the limit at words, and a single overlong word by characters', () => {
    const longSentence = Array.from({ length: 95 }, (_, index) => `word${index}`).join(' ');
    const longWord = 'x'.repeat(130);
    const countCharacters = (text: string) => text.length;
    const chunks = chunkDocument(
      { pages: [{ page: null, text: `${longSentence}\n\n${longWord}` }], pageCount: null },
      { maxTokens: 50, overlap: 0, countTokens: countCharacters },
    );
    for (const chunk of chunks) expect(chunk.tokenCount).to.be.at.most(50);
    expect(chunks.map((chunk) => chunk.content).join(' '))
      .to.include('word0 word1')
      .and.include('word94');
    expect(
      chunks.filter((chunk) => /^x+$/.test(chunk.content)).map((chunk) => chunk.content.length),
    ).to.deep.equal([50, 50, 30]);
  });

  it('holds the limit when joining costs more than the sum of the sentences', () => {
    // This counter charges 3 tokens for each paragraph break, which the per-sentence estimate cannot see.
    const countWithBreaks = (text: string) => countWords(text) + 3 * (text.match(/\n\n/g)?.length ?? 0);
    const { document, sentencePages } = numberedDocument(2, 8, 2);
    const options = { maxTokens: 24, overlap: 0.3, countTokens: countWithBreaks };
    const chunks = chunkDocument(document, options);
    expectChunkInvariants(chunks, options, sentencePages);
  });

  it('returns no chunks for an empty document and rejects impossible options', () => {
    expect(chunkDocument({ pages: [], pageCount: 0 }, wordOptions)).to.deep.equal([]);
    expect(() => chunkDocument({ pages: [], pageCount: 0 }, { ...wordOptions, maxTokens: 0 })).to.throw(
      RangeError,
    );
    expect(() => chunkDocument({ pages: [], pageCount: 0 }, { ...wordOptions, overlap: 0.6 })).to.throw(
      RangeError,
    );
  });

  describe('with the embedding model tokenizer', () => {
    const previousEnv = { localModelPath: env.localModelPath, allowRemoteModels: env.allowRemoteModels };
    let modelOptions: ChunkOptions;

    before(async () => {
      env.localModelPath = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
      env.allowRemoteModels = false;
      const tokenizer = await AutoTokenizer.from_pretrained('tiny-bert-embed');
      const countTokens = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).length;
      modelOptions = { maxTokens: 64, overlap: 0.15, countTokens };
    });

    after(() => {
      env.localModelPath = previousEnv.localModelPath;
      env.allowRemoteModels = previousEnv.allowRemoteModels;
    });

    it('keeps every invariant', () => {
      const { document, sentencePages } = numberedDocument(4, 3, 8);
      const chunks = chunkDocument(document, modelOptions);
      expectChunkInvariants(chunks, modelOptions, sentencePages);
      expectOverlap(chunks);
    });

    it('cuts unpunctuated text and long unbroken strings within the limit', () => {
      const text = `${'lorem ipsum dolor sit amet '.repeat(80)}\n\n${'東京大阪名古屋'.repeat(60)}\n\n${'ab1'.repeat(400)}`;
      const chunks = chunkDocument({ pages: [{ page: null, text }], pageCount: null }, modelOptions);
      expect(chunks.length).to.be.greaterThan(5);
      for (const chunk of chunks) {
        expect(chunk.tokenCount).to.equal(modelOptions.countTokens(chunk.content));
        expect(chunk.tokenCount).to.be.at.most(modelOptions.maxTokens);
      }
    });

    // Its speed is measured by bench:ingest, not asserted here.
    it('chunks a 250-page document', () => {
      const { document, sentencePages } = numberedDocument(250, 4, 6);
      const chunks = chunkDocument(document, modelOptions);
      expectChunkInvariants(chunks, modelOptions, sentencePages);
      expect(chunks.at(-1)!.page).to.equal(250);
    });
  });
});
