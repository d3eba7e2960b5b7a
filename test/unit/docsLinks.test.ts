import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The README and every page of docs/, as paths from the repository root. */
function pages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** Markdown outside fenced code blocks and inline code spans, where a link is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings (a repeated heading gets -1, -2…, as on GitHub). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const match of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(match[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** The relative targets of a page's links: `[text](target)`, not URLs. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** Top-level folders whose paths the pages name in code spans, like `src/relay/events.ts`. */
const CODE_FOLDERS = ['src', 'workers', 'test', 'bench', 'scripts', 'migrations', 'docs', '.ci'];

/** Repository paths a page names in code spans (not in code blocks, which hold commands). */
function namedPaths(markdown: string): string[] {
  const outsideBlocks = markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '');
  return [...outsideBlocks.matchAll(/`([^`\s]+)`/g)]
    .map((match) => match[1]!)
    .filter(
      (path) => CODE_FOLDERS.some((folder) => path.startsWith(`${folder}/`)) && !/[<>*{}:$]/.test(path),
    );
}

describe('README.md and docs/', () => {
  it('link only to files and headings that exist', () => {
    const broken: string[] = [];
    const all = pages();
    expect(all).to.include('docs/configuration.md');
    for (const page of all) {
      const text = readFileSync(join(ROOT, page), 'utf8');
      for (const target of relativeLinks(text)) {
        const [path = '', anchor] = target.split('#');
        if (path.startsWith('/')) {
          broken.push(`${page}: ${target} (absolute; links must be relative)`);
          continue;
        }
        const file = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
        if (file.startsWith('..') || !existsSync(join(ROOT, file))) {
          broken.push(`${page}: ${target} (no such file)`);
          continue;
        }
        if (anchor !== undefined && file.endsWith('.md')) {
          if (!anchors(readFileSync(join(ROOT, file), 'utf8')).has(anchor))
            broken.push(`${page}: ${target} (no such heading in ${file})`);
        }
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it('name only repository paths that exist (a moved file is a stale page)', () => {
    const stale: string[] = [];
    for (const page of pages()) {
      for (const path of namedPaths(readFileSync(join(ROOT, page), 'utf8')))
        if (!existsSync(join(ROOT, path))) stale.push(`${page}: ${path}`);
    }
    expect(stale).to.deep.equal([]);
  });
});
