import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { expect } from 'chai';
import { ENVIRONMENT_VARIABLES } from '../../src/config.ts';

const source = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

interface SettingsRow {
  line: string;
  variables: string[];
  /** The default column, one entry per variable of the row. */
  defaults: string[];
}

/**
 * The rows of the table under `## Settings` in a configuration page. The first column names one
 * or more variables (`NAME`, comma-separated); the second gives one default per variable.
 */
function settingsTable(markdown: string): SettingsRow[] {
  const section = markdown.split('\n## Settings\n')[1]?.split('\n## ')[0];
  if (section === undefined) throw new Error('no "## Settings" section');
  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  if (lines.length < 3) throw new Error('the "## Settings" section has no table rows');
  // Skip the header and its |---| separator.
  return lines.slice(2).map((line) => {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    const first = cells[0] ?? '';
    const names = first.split(', ');
    if (!names.every((name) => /^`[A-Z][A-Z0-9_]*`$/.test(name)))
      throw new Error(`the first column must be \`VARIABLE\`s separated by ", ": ${line}`);
    return {
      line,
      variables: names.map((name) => name.slice(1, -1)),
      defaults: (cells[1] ?? '').split(', '),
    };
  });
}

/** `a` minus `b`, for a message that names what is missing. */
const without = (a: readonly string[], b: readonly string[]) => a.filter((name) => !b.includes(name));

const duplicates = (names: readonly string[]) => names.filter((name, index) => names.indexOf(name) !== index);

describe('docs/configuration.md', () => {
  const rows = settingsTable(source('docs/configuration.md'));
  const documented = rows.flatMap((row) => row.variables);
  const example = parseEnv(source('.env.example'));
  const inExample = Object.keys(example);

  it('names each variable once in its settings table', () => {
    expect(documented).to.include('PORT');
    expect(duplicates(documented), 'named twice in the table').to.deep.equal([]);
  });

  it('names every variable of .env.example, and no other', () => {
    expect(without(inExample, documented), 'in .env.example, missing from the table').to.deep.equal([]);
    expect(without(documented, inExample), 'in the table, missing from .env.example').to.deep.equal([]);
  });

  it('names every variable src/config.ts reads, and no other', () => {
    expect(ENVIRONMENT_VARIABLES).to.include('DATABASE_URL');
    expect(
      without(ENVIRONMENT_VARIABLES, documented),
      'read by src/config.ts, missing from the table',
    ).to.deep.equal([]);
    expect(
      without(documented, ENVIRONMENT_VARIABLES),
      'in the table, unknown to src/config.ts',
    ).to.deep.equal([]);
  });

  it('gives one default per variable, and a literal default is what .env.example sets', () => {
    const wrong: string[] = [];
    for (const row of rows) {
      if (row.defaults.length !== row.variables.length) {
        wrong.push(`${row.variables.length} variables but ${row.defaults.length} defaults: ${row.line}`);
        continue;
      }
      row.variables.forEach((name, index) => {
        // `value`, optionally followed by a remark in parentheses: `0` (off).
        const literal = /^`([^`]*)`(?: \([^)]*\))?$/.exec(row.defaults[index]!)?.[1];
        const value = example[name];
        // An empty value in .env.example means "computed": the table says from what.
        if (literal !== undefined && value) {
          if (literal !== value) wrong.push(`${name}: the table says ${literal}, .env.example sets ${value}`);
        }
      });
    }
    expect(wrong).to.deep.equal([]);
  });
});
