import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

/**
 * The import graph's rules, checked on every run:
 * - no import cycles between files (type-only imports count: they couple the files just as much);
 * - no cycles between the folders of src/ (a folder is a module: its dependencies go one way);
 * - domain code, the relay and the workers never import the HTTP layer (src/http/) or the
 *   Socket.IO server (src/realtime/): only the edge's composition and the two transports do.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Who may import the transports: the transports themselves and the edge that wires them. */
const TRANSPORT = /^src\/(http|realtime)\//;
const MAY_IMPORT_TRANSPORTS = [/^src\/(http|realtime)\//, /^src\/edge\.ts$/];

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sourceFiles('src'), ...sourceFiles('workers')]) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm)]
      .map((match) => relative(ROOT, resolve(ROOT, dirname(file), match[1]!)))
      .filter((target) => target.endsWith('.ts'));
    graph.set(file, targets);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const walk = (node: string, path: string[]) => {
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), node, next]);
      else if (!state.has(next)) walk(next, [...path, node]);
    }
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) walk(node, []);
  return found.map((cycle) => cycle.filter((node, index) => index === 0 || node !== cycle[index - 1]));
}

/** src/chat/x.ts → src/chat; src/edge.ts → src (the composition root). */
const folderOf = (file: string) =>
  file.split('/').length > 2 ? file.split('/').slice(0, 2).join('/') : null;

describe('layering: the import graph', () => {
  const graph = importGraph();

  it('reads the sources it checks', () => {
    expect(graph.size).to.be.greaterThan(100);
    expect(graph.get('workers/startWorkers.ts')).to.include('workers/tasks/index.ts');
  });

  it('has no cycles between files', () => {
    expect(cycles(graph).map((cycle) => cycle.join(' → '))).to.deep.equal([]);
  });

  it('has no cycles between the folders of src/', () => {
    const folders = new Map<string, string[]>();
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      if (!from?.startsWith('src/')) continue;
      for (const target of targets) {
        const to = folderOf(target);
        if (to && to !== from && to.startsWith('src/')) folders.set(from, [...(folders.get(from) ?? []), to]);
      }
    }
    expect(cycles(folders).map((cycle) => cycle.join(' → '))).to.deep.equal([]);
  });

  it('keeps domain code, the relay and the workers off the HTTP layer and the Socket.IO server', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      if (MAY_IMPORT_TRANSPORTS.some((allowed) => allowed.test(file))) continue;
      for (const target of targets) if (TRANSPORT.test(target)) violations.push(`${file} → ${target}`);
    }
    expect(violations).to.deep.equal([]);
  });
});
