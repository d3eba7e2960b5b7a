import { createHash } from 'node:crypto';

/**
 * Hand-written PDF 1.4 files for the ingest tests, so no binary fixtures or extra dependency are needed.
 * Text uses the standard Helvetica font with WinAnsiEncoding, so lines must be Latin-1.
 */

const encoder = new TextEncoder();

/** One indirect object: its body is everything between "n 0 obj" and "endobj". */
interface PdfObject {
  number: number;
  body: Uint8Array;
}

function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (character) => {
    const code = character.charCodeAt(0);
    if (code > 0xff) throw new Error(`pdfFactory: "${character}" is not Latin-1, Helvetica cannot show it`);
    return code;
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const result = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

/** A literal string operand: parentheses and backslashes must be escaped inside ( ). */
function pdfString(text: string): string {
  return `(${text.replace(/[\\()]/g, (special) => `\\${special}`)})`;
}

function dictionaryObject(number: number, dictionary: string): PdfObject {
  return { number, body: encoder.encode(dictionary) };
}

function streamObject(number: number, dictionary: string, data: Uint8Array): PdfObject {
  return {
    number,
    body: concat([
      encoder.encode(`<< ${dictionary} /Length ${data.length} >>\nstream\n`),
      data,
      encoder.encode('\nendstream'),
    ]),
  };
}

/** Header, objects, a cross-reference table with exact byte offsets, trailer and startxref. */
function serialise(objects: PdfObject[], trailerEntries: string): Uint8Array {
  // The binary comment line tells tools the file holds 8-bit data (PDF spec 7.5.2).
  const parts: Uint8Array[] = [encoder.encode('%PDF-1.4\n%'), new Uint8Array([0xe2, 0xe3, 0xcf, 0xd3, 0x0a])];
  let length = parts.reduce((sum, part) => sum + part.length, 0);
  const offsets = new Map<number, number>();
  for (const object of [...objects].sort((a, b) => a.number - b.number)) {
    offsets.set(object.number, length);
    const bytes = concat([
      encoder.encode(`${object.number} 0 obj\n`),
      object.body,
      encoder.encode('\nendobj\n'),
    ]);
    parts.push(bytes);
    length += bytes.length;
  }
  const size = Math.max(...offsets.keys()) + 1;
  // Each xref entry is exactly 20 bytes: 10-digit offset, space, 5-digit generation, space, type, CR LF.
  let xref = `xref\n0 ${size}\n0000000000 65535 f\r\n`;
  for (let number = 1; number < size; number++) {
    const offset = offsets.get(number);
    xref +=
      offset === undefined ? '0000000000 65535 f\r\n' : `${String(offset).padStart(10, '0')} 00000 n\r\n`;
  }
  xref += `trailer\n<< /Size ${size} /Root 1 0 R ${trailerEntries} >>\nstartxref\n${length}\n%%EOF\n`;
  parts.push(encoder.encode(xref));
  return concat(parts);
}

/** Content stream that writes each line below the previous one, 16 points apart. */
function textContent(lines: string[]): Uint8Array {
  const operators = ['BT', '/F1 12 Tf', '16 TL', '72 740 Td'];
  for (const [index, line] of lines.entries()) {
    if (index > 0) operators.push('T*');
    operators.push(`${pdfString(line)} Tj`);
  }
  operators.push('ET');
  return latin1(operators.join('\n'));
}

/**
 * Objects 1 (catalog), 2 (page tree), 3 (font), then for page i: a page object and its content stream.
 * `extraObjects` lets a caller add shared resources such as an image.
 */
function pagedDocument(
  contents: Uint8Array[],
  pageResources: string,
  options: {
    extraObjects?: PdfObject[];
    encryptStream?: (number: number, data: Uint8Array) => Uint8Array;
  } = {},
): PdfObject[] {
  const firstPageObject = 4 + (options.extraObjects?.length ?? 0);
  const pageNumbers = contents.map((_, index) => firstPageObject + index * 2);
  const objects: PdfObject[] = [
    dictionaryObject(1, '<< /Type /Catalog /Pages 2 0 R >>'),
    dictionaryObject(
      2,
      `<< /Type /Pages /Kids [${pageNumbers.map((number) => `${number} 0 R`).join(' ')}] /Count ${contents.length} >>`,
    ),
    dictionaryObject(3, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'),
    ...(options.extraObjects ?? []),
  ];
  for (const [index, content] of contents.entries()) {
    const pageNumber = pageNumbers[index]!;
    const contentNumber = pageNumber + 1;
    objects.push(
      dictionaryObject(
        pageNumber,
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources ${pageResources} /Contents ${contentNumber} 0 R >>`,
      ),
      streamObject(contentNumber, '', options.encryptStream?.(contentNumber, content) ?? content),
    );
  }
  return objects;
}

const HELVETICA_RESOURCES = '<< /Font << /F1 3 0 R >> >>';

/** A valid PDF with one page per entry; each page shows its lines top to bottom. */
export function makeTextPdf(pages: string[][]): Uint8Array {
  return serialise(pagedDocument(pages.map(textContent), HELVETICA_RESOURCES), '');
}

/**
 * Pages that only paint an image (like a scan without OCR): the file is fine but holds no text operators.
 */
export function makeImageOnlyPdf(pageCount: number): Uint8Array {
  // A 2x2 grey-scale checkerboard, scaled up to fill most of the page.
  const image = streamObject(
    4,
    '/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8',
    new Uint8Array([0x00, 0xff, 0xff, 0x00]),
  );
  const paint = encoder.encode('q 468 0 0 648 72 72 cm /Im1 Do Q');
  const contents = Array.from({ length: pageCount }, () => paint);
  return serialise(pagedDocument(contents, '<< /XObject << /Im1 4 0 R >> >>', { extraObjects: [image] }), '');
}

/** Starts like a PDF but the rest is noise and the file stops half-way: no objects, no xref, no trailer. */
export function makeCorruptPdf(): Uint8Array {
  const noise = Uint8Array.from({ length: 512 }, (_, index) => (index * 73 + 41) % 251);
  return concat([encoder.encode('%PDF-1.4\n1 0 obj\n<< /Type /Cat'), noise]);
}

// --- Standard security handler, revision 2 (RC4, 40-bit key), PDF 1.4 spec section 3.5 ---

/** The 32-byte padding string every password is completed with (Algorithm 3.2, step 1). */
const PASSWORD_PADDING = Uint8Array.from([
  0x28, 0xbf, 0x4e, 0x5e, 0x4e, 0x75, 0x8a, 0x41, 0x64, 0x00, 0x4e, 0x56, 0xff, 0xfa, 0x01, 0x08, 0x2e, 0x2e,
  0x00, 0xb6, 0xd0, 0x68, 0x3e, 0x80, 0x2f, 0x0c, 0xa9, 0xfe, 0x64, 0x53, 0x69, 0x7a,
]);

function padPassword(password: string): Uint8Array {
  return concat([latin1(password), PASSWORD_PADDING]).subarray(0, 32);
}

function md5(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** RC4 is symmetric: the same call encrypts and decrypts. */
function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  const state = Uint8Array.from({ length: 256 }, (_, index) => index);
  let j = 0;
  for (let i = 0; i < 256; i++) {
    j = (j + state[i]! + key[i % key.length]!) & 0xff;
    [state[i], state[j]] = [state[j]!, state[i]!];
  }
  const output = new Uint8Array(data.length);
  let i = 0;
  j = 0;
  for (let index = 0; index < data.length; index++) {
    i = (i + 1) & 0xff;
    j = (j + state[i]!) & 0xff;
    [state[i], state[j]] = [state[j]!, state[i]!];
    output[index] = data[index]! ^ state[(state[i]! + state[j]!) & 0xff]!;
  }
  return output;
}

const hex = (bytes: Uint8Array) => `<${Buffer.from(bytes).toString('hex')}>`;

/**
 * A text PDF protected by a user password (default "secret"), so a reader without the password cannot open it.
 * pdf.js silently tries the empty password first, which is why an owner-password-only file would not do.
 */
export function makeEncryptedPdf(
  pages: string[][] = [['Confidential minutes.']],
  userPassword = 'secret',
  ownerPassword = 'owner-secret',
): Uint8Array {
  const keyLength = 5; // 40 bits
  const permissions = -4; // every permission granted; bits 1-2 must be 0 and the value is signed 32-bit
  const fileId = md5(encoder.encode(`parley-test-${pages.length}`));

  // Algorithm 3.3: the owner entry is the padded user password encrypted with a key from the owner password.
  const ownerKey = md5(padPassword(ownerPassword)).subarray(0, keyLength);
  const ownerEntry = rc4(ownerKey, padPassword(userPassword));

  // Algorithm 3.2: the file key hashes the user password, owner entry, permissions (little-endian) and file id.
  const permissionBytes = new Uint8Array(4);
  new DataView(permissionBytes.buffer).setInt32(0, permissions, true);
  const fileKey = md5(padPassword(userPassword), ownerEntry, permissionBytes, fileId).subarray(0, keyLength);

  // Algorithm 3.4 (revision 2): the user entry is the padding string encrypted with the file key.
  const userEntry = rc4(fileKey, PASSWORD_PADDING);

  // Algorithm 3.1: each object's data is encrypted with a key salted by its object and generation numbers.
  const encryptStream = (objectNumber: number, data: Uint8Array) => {
    const salt = Uint8Array.from([
      objectNumber & 0xff,
      (objectNumber >> 8) & 0xff,
      (objectNumber >> 16) & 0xff,
      0,
      0,
    ]);
    const objectKey = md5(fileKey, salt).subarray(0, Math.min(keyLength + 5, 16));
    return rc4(objectKey, data);
  };

  const encryptNumber = 4;
  const encryptDictionary = dictionaryObject(
    encryptNumber,
    `<< /Filter /Standard /V 1 /R 2 /O ${hex(ownerEntry)} /U ${hex(userEntry)} /P ${permissions} >>`,
  );
  const objects = pagedDocument(pages.map(textContent), HELVETICA_RESOURCES, {
    extraObjects: [encryptDictionary],
    encryptStream,
  });
  return serialise(objects, `/Encrypt ${encryptNumber} 0 R /ID [${hex(fileId)} ${hex(fileId)}]`);
}
