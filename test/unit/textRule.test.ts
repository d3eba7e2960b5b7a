import { expect } from 'chai';
import { z } from 'zod';
import { chatCancelSchema, chatResumeSchema, chatSendSchema } from '../../src/chat/schema.ts';
import { OPERATIONS } from '../../src/http/openapi/operations.ts';
import { SETTING_SCHEMAS } from '../../src/settings/RuntimeSettings.ts';
import { isStorableText, STORABLE_TEXT_MESSAGE, text } from '../../src/validation/text.ts';

/** String formats whose patterns are ASCII-only, so they can't match NUL or a surrogate. */
const CLOSED_FORMATS = new Set(['uuid', 'email']);

/** Every string schema reachable from `schema`, with where it sits. */
function stringLeaves(schema: z.ZodType, at: string): { at: string; leaf: z.ZodType }[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const walk = (child: unknown, where = at) => stringLeaves(child as z.ZodType, where);
  switch (def.type) {
    case 'string':
      return [{ at, leaf: schema }];
    case 'object':
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, child]) =>
        walk(child, `${at}.${key}`),
      );
    case 'array':
      return walk(def.element, `${at}[]`);
    case 'union':
      return (def.options as z.ZodType[]).flatMap((option) => walk(option));
    case 'pipe':
      return [...walk(def.in), ...walk(def.out)];
    case 'intersection':
      return [...walk(def.left), ...walk(def.right)];
    case 'record':
      return [...walk(def.keyType, `${at}{key}`), ...walk(def.valueType, `${at}{}`)];
    case 'tuple':
      return (def.items as z.ZodType[]).flatMap((item, index) => walk(item, `${at}[${index}]`));
    case 'lazy':
      return walk((def.getter as () => z.ZodType)());
    default:
      return 'innerType' in def ? walk(def.innerType) : [];
  }
}

const carriesRule = (leaf: z.ZodType) =>
  (leaf._zod.def.checks ?? []).some((check) => (check._zod.def as { fn?: unknown }).fn === isStorableText);
const isClosedFormat = (leaf: z.ZodType) =>
  CLOSED_FORMATS.has((leaf._zod.def as { format?: string }).format ?? '');
// A multipart file part is bytes (stored as bytea), not text; its filename is cleaned apart.
const isBinary = (leaf: z.ZodType) => z.globalRegistry.get(leaf)?.format === 'binary';

/** Every schema that parses client input: each operation's params, query and body, and the socket events. */
const INPUT_SCHEMAS: { name: string; schema: z.ZodType }[] = [
  ...OPERATIONS.flatMap((operation) =>
    (['params', 'query', 'body'] as const).flatMap((part) => {
      const schema = operation[part];
      return schema ? [{ name: `${operation.method.toUpperCase()} ${operation.path} ${part}`, schema }] : [];
    }),
  ),
  ...Object.entries(SETTING_SCHEMAS).map(([key, schema]) => ({ name: `setting ${key}`, schema })),
  { name: 'socket chat:send', schema: chatSendSchema },
  { name: 'socket chat:cancel', schema: chatCancelSchema },
  { name: 'socket chat:resume', schema: chatResumeSchema },
];

describe('text rule: no NUL, no unpaired surrogate', () => {
  it('accepts ordinary text, emoji and other planes; refuses NUL and lone surrogates', () => {
    for (const good of ['', 'hello', 'héllo wörld', '😀 pair', '\u{10FFFF}', 'tab\tnew\nline'])
      expect(isStorableText(good), JSON.stringify(good)).to.equal(true);
    for (const bad of ['\u0000', 'a\u0000b', '\ud800', 'x\udc00', '\udc00\ud800', '😀'.slice(0, 1)])
      expect(isStorableText(bad), JSON.stringify(bad)).to.equal(false);
  });

  it('text() reports the rule as the field’s message', () => {
    const result = z.object({ title: text().trim().max(5) }).safeParse({ title: 'a\u0000' });
    expect(result.success).to.equal(false);
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).to.deep.equal([
      ['title', STORABLE_TEXT_MESSAGE],
    ]);
  });

  it('guards every string in every operation’s and socket event’s input schema', () => {
    const leaves = INPUT_SCHEMAS.flatMap(({ name, schema }) => stringLeaves(schema, name));
    // The walk must see real fields, or an unknown zod shape would make this test pass vacuously.
    expect(leaves.length).to.be.greaterThan(20);
    const unguarded = leaves
      .filter(({ leaf }) => !carriesRule(leaf) && !isClosedFormat(leaf) && !isBinary(leaf))
      .map(({ at }) => at);
    expect(unguarded, 'build these strings with text() from src/validation/text.ts').to.deep.equal([]);
  });

  it('the guard notices a plain z.string()', () => {
    const leaves = stringLeaves(z.object({ a: z.string().optional(), b: z.array(text()) }), 'x');
    expect(leaves.filter(({ leaf }) => !carriesRule(leaf)).map(({ at }) => at)).to.deep.equal(['x.a']);
  });
});
