import fc from 'fast-check';

/**
 * Malformed inputs for the fuzz test: nasty strings, wrong types, huge and deeply nested values,
 * broken JSON and wrong content types. Big values are generated as small descriptors that
 * expand when sent, so a failing case prints readably (fast-check shows the descriptor).
 */

/** A long string, built when serialised (JSON or URL). */
export class Huge {
  readonly length: number;
  readonly unit: string;
  constructor(length: number, unit: string) {
    this.length = length;
    this.unit = unit;
  }
  toJSON(): string {
    return this.unit.repeat(this.length);
  }
  toString(): string {
    return this.toJSON();
  }
  [fc.toStringMethod](): string {
    return `Huge(${this.length} × ${JSON.stringify(this.unit)})`;
  }
}

/** Deeply nested JSON text (`[[[…]]]`, `{"a":{"a":…}}`), optionally left unclosed. */
export class Nested {
  readonly depth: number;
  readonly shape: 'array' | 'object';
  readonly closed: boolean;
  readonly field?: string;
  constructor(depth: number, shape: 'array' | 'object', closed: boolean, field?: string) {
    this.depth = depth;
    this.shape = shape;
    this.closed = closed;
    this.field = field;
  }
  toString(): string {
    const [open, close] = this.shape === 'array' ? ['[', ']'] : ['{"a":', '}'];
    const inner = `${open.repeat(this.depth)}1${this.closed ? close.repeat(this.depth) : ''}`;
    return this.field === undefined ? inner : `{${JSON.stringify(this.field)}:${inner}}`;
  }
  [fc.toStringMethod](): string {
    return `Nested(${this.depth} ${this.shape}${this.closed ? '' : ' unclosed'}${this.field ? ` in ${this.field}` : ''})`;
  }
}

/** A value already percent-encoded (or deliberately broken), put in a URL as it is. */
export class RawUrlPart {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  [fc.toStringMethod](): string {
    return `raw(${JSON.stringify(this.text)})`;
  }
}

const SPECIAL_TEXT = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'a\udfffb',
  '\udc00\ud800',
  '😀',
  '\u202e\u200b',
  '../../etc/passwd',
  "' or 1=1 --",
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'null',
  'true',
  '-1',
  '1e309',
  'NaN',
];

export const nastyText: fc.Arbitrary<string | Huge> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(...SPECIAL_TEXT),
  fc
    .record({
      length: fc.integer({ min: 300, max: 40_000 }),
      unit: fc.constantFrom('x', '\u0000', '😀', '\ud800'),
    })
    .map(({ length, unit }) => new Huge(length, unit)),
);

/** Any JSON-ish value of a wrong type or shape for a field, including the given ids. */
export const badValue = (ids: string[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    nastyText,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.uuid(),
    ...(ids.length > 0 ? [fc.constantFrom(...ids)] : []),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  );

const BROKEN_JSON = [
  '{',
  '{"a":',
  '[1,]',
  '{"a":1}}',
  "{'a':1}",
  'nul',
  'NaN',
  '\u0000',
  '{"a":"\u0000"',
  '\ufeff{}',
  '{"__proto__":{"admin":true}}',
  '"just a string"',
  '[]',
  '1',
  'null',
];

const WRONG_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/xml',
  'application/octet-stream',
  'multipart/form-data',
  'multipart/form-data; boundary=zzz',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/jsonx',
  'image/png',
];

export type BodySpec =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; contentType: string; text: string | Huge | Nested }
  | { kind: 'bytes'; contentType: string; bytes: Uint8Array };

/** Bodies for a JSON operation whose body has these fields (none for an operation without one). */
export function jsonBodies(fields: string[], ids: string[], maxJsonBytes: number): fc.Arbitrary<BodySpec> {
  const value = badValue(ids);
  return fc.oneof(
    // Known fields, any subset of them (missing fields), wrong values; unknown fields beside them.
    fc
      .record({
        known: fc.record(Object.fromEntries(fields.map((field) => [field, value])), { requiredKeys: [] }),
        unknown: fc.dictionary(fc.string({ maxLength: 10 }), value, { maxKeys: 2 }),
      })
      .map(({ known, unknown }): BodySpec => ({ kind: 'json', value: { ...unknown, ...known } })),
    fc.jsonValue({ maxDepth: 3 }).map((json): BodySpec => ({ kind: 'json', value: json })),
    fc
      .constantFrom(...BROKEN_JSON)
      .map((text): BodySpec => ({ kind: 'raw', contentType: 'application/json', text })),
    fc
      .record({
        depth: fc.constantFrom(10_000, 100_000),
        shape: fc.constantFrom('array' as const, 'object' as const),
        closed: fc.boolean(),
        field: fc.option(fc.constantFrom(...fields, 'x'), { nil: undefined }),
      })
      .map(
        ({ depth, shape, closed, field }): BodySpec => ({
          kind: 'raw',
          contentType: 'application/json',
          text: new Nested(depth, shape, closed, field),
        }),
      ),
    fc
      .record({ contentType: fc.constantFrom(...WRONG_CONTENT_TYPES), text: fc.string({ maxLength: 50 }) })
      .map(({ contentType, text }): BodySpec => ({ kind: 'raw', contentType, text })),
    // Over the JSON limit (refused while streaming, before it is parsed).
    fc.constant<BodySpec>({
      kind: 'raw',
      contentType: 'application/json',
      text: new Huge(maxJsonBytes + 10, 'x'),
    }),
    fc.constant<BodySpec>({ kind: 'none' }),
  );
}

/** Multipart bodies for an upload: broken, with odd field and file names, or not multipart at all. */
export function multipartBodies(field: string): fc.Arbitrary<BodySpec> {
  const boundary = 'fuzzboundary';
  const part = fc.record({
    name: fc.constantFrom(field, `${field}s`, '', 'x\u0000', '😀'),
    filename: fc.oneof(
      fc.constantFrom('a.txt', 'a.pdf', '', '../a.txt', 'a\u0000.txt', 'a\ud800.txt'),
      fc.string({ maxLength: 20 }),
    ),
    filenameStar: fc.boolean(),
    content: fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom('%PDF-1.7\n%garbage', '\u0000\u0001\u0002', ''),
    ),
  });
  return fc.oneof(
    fc
      .record({ parts: fc.array(part, { minLength: 0, maxLength: 2 }), closed: fc.boolean() })
      .map(({ parts, closed }): BodySpec => {
        const text =
          parts
            .map((p) => {
              const filename = p.filenameStar
                ? `filename*=UTF-8''${encodeLoosely(p.filename)}`
                : `filename="${p.filename}"`;
              return `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; ${filename}\r\nContent-Type: text/plain\r\n\r\n${p.content}\r\n`;
            })
            .join('') + (closed ? `--${boundary}--\r\n` : '');
        return {
          kind: 'bytes',
          contentType: `multipart/form-data; boundary=${boundary}`,
          bytes: Buffer.from(text, 'utf8'),
        };
      }),
    fc.uint8Array({ maxLength: 300 }).map(
      (bytes): BodySpec => ({
        kind: 'bytes',
        contentType: `multipart/form-data; boundary=${boundary}`,
        bytes,
      }),
    ),
    jsonBodies([field], [], 1_024),
  );
}

/** Query or path values: nasty text, ids, numbers out of range, broken percent-escapes. */
export const urlValue = (ids: string[]): fc.Arbitrary<string | Huge | RawUrlPart> =>
  fc.oneof(
    nastyText,
    fc.uuid(),
    ...(ids.length > 0 ? [fc.constantFrom(...ids)] : []),
    fc.integer().map(String),
    fc
      .constantFrom(
        '%',
        '%zz',
        '%E0%A4%A',
        '%ED%A0%80',
        '%C0%80',
        '%00',
        '%2F',
        '%2e%2e',
        '..',
        '9'.repeat(400),
        '-0',
      )
      .map((text) => new RawUrlPart(text)),
  );

/** Percent-encodes any string, lone surrogates included (as the invalid UTF-8 they would be). */
export function encodeLoosely(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    out +=
      code >= 0xd800 && code <= 0xdfff
        ? `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`
        : encodeURIComponent(char);
  }
  return out;
}

/** A URL part from a generated value, kept short enough for Node's 16 KB header limit. */
export function urlPart(value: string | Huge | RawUrlPart): string {
  const text = value instanceof RawUrlPart ? value.text : encodeLoosely(String(value));
  return text.slice(0, 3_000);
}

/** Body bytes and content type for fetch. */
export function bodyFor(spec: BodySpec): { contentType?: string; body?: string | Uint8Array } {
  switch (spec.kind) {
    case 'none':
      return {};
    case 'json':
      return { contentType: 'application/json', body: JSON.stringify(spec.value) ?? 'null' };
    case 'raw':
      return { contentType: spec.contentType, body: String(spec.text) };
    case 'bytes':
      return { contentType: spec.contentType, body: spec.bytes };
  }
}
