/**
 * Real bytes of text in the encodings older editors save, for the upload tests: Node can decode
 * Windows-125x and ISO-8859-x but not encode them, so the table is the decoder's, inverted.
 */

/** `text` in a single-byte encoding TextDecoder knows ('windows-1252', 'windows-1251', 'iso-8859-7'...). */
export function encodeSingleByte(text: string, encoding: string): Uint8Array {
  const decoder = new TextDecoder(encoding);
  const table = new Map<string, number>();
  for (let byte = 0xff; byte >= 0; byte--) table.set(decoder.decode(Uint8Array.of(byte)), byte);
  return Uint8Array.from(text, (character) => {
    const byte = table.get(character);
    if (byte === undefined) throw new Error(`legacyText: "${character}" has no byte in ${encoding}`);
    return byte;
  });
}

/** `text` in ISO-8859-1: each character's code is its byte (so only U+0000-U+00FF). */
export function encodeLatin1(text: string): Uint8Array {
  return Uint8Array.from(text, (character) => {
    const code = character.charCodeAt(0);
    if (code > 0xff) throw new Error(`legacyText: "${character}" is not Latin-1`);
    return code;
  });
}

/** `text` in UTF-16, little or big endian, with or without its byte-order mark. */
export function encodeUtf16(text: string, order: 'le' | 'be', { bom = true } = {}): Uint8Array {
  const units = Buffer.from(`${bom ? '\ufeff' : ''}${text}`, 'utf16le');
  if (order === 'be') units.swap16();
  return new Uint8Array(units);
}
