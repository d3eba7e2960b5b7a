import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { z } from 'zod';
import {
  clientEventResultSchemas,
  clientEventSchemas,
  serverEventSchemas,
} from '../../src/relay/eventSchemas.ts';
import { declaredEvents } from '../support/declaredEvents.ts';

const page = readFileSync(new URL('../../docs/realtime.md', import.meta.url), 'utf8');

/** The `{ … }` code span a table cell opens with, pipes unescaped; '' when it has none. */
const leadingShape = (cell: string) => (/^`(\{[^`]*\})`/.exec(cell.trim())?.[1] ?? '').replaceAll('\\|', '|');

/** Each row of the table under `heading`: its event, the payload and (client → server) the result. */
function documentedRows(heading: string): { event: string; payload: string; result: string }[] {
  const section = page.split(`## ${heading}`)[1]!.split('\n## ')[0]!;
  return [...section.matchAll(/^\| `([a-z]+:[a-z]+)` \|(.*)$/gm)].map((match) => {
    // Split the rest of the row at the cell borders, not at the escaped pipes inside a cell.
    const cells = match[2]!.split(/(?<!\\)\|/);
    return { event: match[1]!, payload: leadingShape(cells[0] ?? ''), result: leadingShape(cells[1] ?? '') };
  });
}

interface DocField {
  name: string;
  optional: boolean;
  /** The fields of a nested `{ … }` or `[{ … }]`, when the page spells them out. */
  fields?: DocField[];
}

/** Splits `a, b: { c, d }, e?` at the commas outside brackets. */
function topLevelItems(inner: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of inner) {
    if (char === '{' || char === '[') depth += 1;
    if (char === '}' || char === ']') depth -= 1;
    if (char === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}

/** The fields a payload like `{ a, b?: 'x' | 'y', c: { d } }` lists. */
function parseFields(payload: string): DocField[] {
  const inner = payload.trim().replace(/^\{/, '').replace(/\}$/, '');
  return topLevelItems(inner).map((item) => {
    const match = /^([A-Za-z]+)(\?)?(?::\s*(.*))?$/s.exec(item);
    if (!match) throw new Error(`cannot read the field "${item}" in ${payload}`);
    const type = (match[3] ?? '').trim();
    const nested = /^\[?\s*(\{.*\})\s*\]?$/s.exec(type);
    return {
      name: match[1]!,
      optional: match[2] === '?',
      ...(nested ? { fields: parseFields(nested[1]!) } : {}),
    };
  });
}

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; element?: z.ZodType };
const defOf = (schema: z.ZodType) => schema._zod.def as unknown as Def;

/** The object schema inside optional / nullable / array wrappers, if there is one. */
function objectInside(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const def = defOf(schema);
  if (def.type === 'object') return def.shape;
  if (def.innerType) return objectInside(def.innerType);
  if (def.element) return objectInside(def.element);
  return undefined;
}

/** Every way `fields` (the page) and `shape` (the schema) disagree, as readable lines. */
function disagreements(where: string, fields: DocField[], shape: Record<string, z.ZodType>): string[] {
  const found: string[] = [];
  const documented = new Map(fields.map((field) => [field.name, field]));
  for (const name of Object.keys(shape))
    if (!documented.has(name)) found.push(`${where}: the schema has \`${name}\`, the page omits it`);
  for (const field of fields) {
    const schema = shape[field.name];
    if (!schema) {
      found.push(`${where}: the page lists \`${field.name}\`, the schema has no such field`);
      continue;
    }
    const optional = schema.safeParse(undefined).success;
    if (optional !== field.optional)
      found.push(
        `${where}: \`${field.name}\` is ${optional ? '' : 'not '}optional in the schema, the page says otherwise`,
      );
    if (field.fields) {
      const nested = objectInside(schema);
      if (!nested)
        found.push(`${where}: the page spells out fields of \`${field.name}\`, the schema has none`);
      else found.push(...disagreements(`${where}.${field.name}`, field.fields, nested));
    }
  }
  return found;
}

describe('docs/realtime.md', () => {
  it('documents exactly the client → server events the code declares', () => {
    const declared = declaredEvents('ClientToServerEvents');
    expect(declared).to.include('chat:send');
    expect(documentedRows('Client → server').map((row) => row.event)).to.have.members(declared);
    expect(Object.keys(clientEventSchemas)).to.have.members(declared);
  });

  it('documents exactly the server → client events the code declares', () => {
    const declared = declaredEvents('ServerToClientEvents');
    expect(declared).to.include('chat:token');
    expect(documentedRows('Server → client').map((row) => row.event)).to.have.members(declared);
    expect(Object.keys(serverEventSchemas)).to.have.members(declared);
  });

  for (const [heading, schemas] of [
    ['Client → server', clientEventSchemas as Record<string, z.ZodType>],
    ['Server → client', serverEventSchemas as Record<string, z.ZodType>],
  ] as const)
    it(`lists each ${heading} payload's fields exactly as its schema has them`, () => {
      const rows = documentedRows(heading);
      expect(rows).to.have.length.greaterThan(0);
      const found = rows.flatMap(({ event, payload }) => {
        if (!payload) return [`${event}: the page gives no \`{ … }\` payload`];
        const shape = objectInside(schemas[event]!);
        if (!shape) return [`${event}: its schema is not an object`];
        return disagreements(event, parseFields(payload), shape);
      });
      expect(found).to.deep.equal([]);
    });

  it('lists each client → server result as its ack returns it', () => {
    const found = documentedRows('Client → server').flatMap(({ event, result }) => {
      if (!result) return [`${event}: the page gives no \`{ … }\` result`];
      const shape = objectInside(clientEventResultSchemas[event as keyof typeof clientEventResultSchemas]);
      return shape
        ? disagreements(`${event} result`, parseFields(result), shape)
        : [`${event}: no result schema`];
    });
    expect(found).to.deep.equal([]);
    expect(Object.keys(clientEventResultSchemas)).to.have.members(declaredEvents('ClientToServerEvents'));
  });

  it('reads nested and optional fields the way the page writes them', () => {
    expect(parseFields("{ a, b?: 'x' | 'y', c: { d, e? }, f: [{ g }] }")).to.deep.equal([
      { name: 'a', optional: false },
      { name: 'b', optional: true },
      {
        name: 'c',
        optional: false,
        fields: [
          { name: 'd', optional: false },
          { name: 'e', optional: true },
        ],
      },
      { name: 'f', optional: false, fields: [{ name: 'g', optional: false }] },
    ]);
  });
});
