import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

import {
  answersReachingChatService,
  cycles,
  folderGraph,
  type ImportGraph,
  ioredisImports,
  KEY_MAP,
  keyNamesOutsideKeyMap,
  largeTasks,
  MAX_TASK_LINES,
  type Sources,
  transportImports,
  upwardImports,
} from '../support/layeringRules.ts';

/**
 * The import graph's and the sources' rules (test/support/layeringRules.ts), checked on every
 * run, each also on a planted violation that it must find:
 * - no import cycles between files (type-only imports count: they couple the files just as much);
 * - no cycles between the folders of src/ (a folder is a module: its dependencies go one way);
 * - no upward import: foundation → folders → composition (src/compose/) → entry points, workers/;
 * - domain code, the relay and the workers never import the HTTP layer (src/http/) or the
 *   Socket.IO server (src/realtime/): only the edge's composition and the two transports do;
 * - only src/redis/ imports ioredis, and only the key map builds a Redis key or channel name;
 * - every task file is a thin adapter (≤ 80 lines);
 * - the worker's answer (src/answers/) never reaches the edge's ChatService.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

function readSources(): Sources {
  const files = [...sourceFiles('src'), ...sourceFiles('workers')];
  return new Map(files.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));
}

function importGraph(sources: Sources): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const [file, text] of sources) {
    const targets = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm)]
      .map((match) => relative(ROOT, resolve(ROOT, dirname(file), match[1]!)))
      .filter((target) => target.endsWith('.ts'));
    graph.set(file, targets);
  }
  return graph;
}

/** The real graph with one more file, or one more import of an existing file. */
const planted = (graph: ImportGraph, file: string, ...targets: string[]): ImportGraph =>
  new Map([...graph, [file, [...(graph.get(file) ?? []), ...targets]]]);
const plantedSource = (sources: Sources, file: string, text: string): Sources =>
  new Map([...sources, [file, text]]);

describe('layering: the import graph', () => {
  const sources = readSources();
  const graph = importGraph(sources);

  it('reads the sources it checks', () => {
    expect(graph.size).to.be.greaterThan(100);
    expect(graph.get('workers/startWorkers.ts')).to.include('workers/tasks/index.ts');
    expect(graph.get('src/compose/worker.ts')).to.include('src/answers/ReplyRun.ts');
  });

  it('has no cycles between files', () => {
    expect(cycles(graph).map((cycle) => cycle.join(' → '))).to.deep.equal([]);
    const looped = planted(graph, 'src/redis/keys.ts', 'src/redis/cluster.ts');
    const withBack = planted(looped, 'src/redis/cluster.ts', 'src/redis/keys.ts');
    expect(cycles(withBack)).to.not.deep.equal([]);
  });

  it('has no cycles between the folders of src/', () => {
    expect(cycles(folderGraph(graph)).map((cycle) => cycle.join(' → '))).to.deep.equal([]);
    const back = planted(graph, 'src/redis/keys.ts', 'src/answers/ReplyRun.ts');
    expect(cycles(folderGraph(back))).to.not.deep.equal([]);
  });

  it('has no upward import in src/: foundation, folders, composition, entry points', () => {
    expect(upwardImports(graph)).to.deep.equal([]);
    for (const [file, target] of [
      ['src/config.ts', 'src/queues/jobs.ts'],
      ['src/answers/ReplyRun.ts', 'src/compose/worker.ts'],
      ['src/queues/Queues.ts', 'workers/tasks/index.ts'],
      ['src/compose/edge.ts', 'src/start.ts'],
    ] as const)
      expect(upwardImports(planted(graph, file, target))).to.deep.equal([`${file} → ${target}`]);
  });

  it('keeps domain code, the relay and the workers off the HTTP layer and the Socket.IO server', () => {
    expect(transportImports(graph)).to.deep.equal([]);
    const plant = planted(graph, 'src/answers/ReplyRun.ts', 'src/http/problem.ts');
    expect(transportImports(plant)).to.deep.equal(['src/answers/ReplyRun.ts → src/http/problem.ts']);
  });

  it('lets only src/redis/ import ioredis', () => {
    expect(ioredisImports(sources)).to.deep.equal([]);
    const plant = plantedSource(sources, 'src/chat/Planted.ts', "import { Redis } from 'ioredis';\n");
    expect(ioredisImports(plant)).to.deep.equal(['src/chat/Planted.ts: imports ioredis']);
  });

  it(`lets only the key map (${KEY_MAP}) build a Redis key or channel name`, () => {
    expect(keyNamesOutsideKeyMap(sources)).to.deep.equal([]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: planted source text, not a template
    const plants = ['const key = `${this.prefix}:locks:${id}`;', 'const tag = `{${prefix}}`;'];
    for (const text of plants)
      expect(keyNamesOutsideKeyMap(plantedSource(sources, 'src/relay/Planted.ts', text))).to.deep.equal([
        'src/relay/Planted.ts:1: builds a Redis name',
      ]);
  });

  it(`keeps every task file a thin adapter (≤ ${MAX_TASK_LINES} lines)`, () => {
    expect(largeTasks(sources)).to.deep.equal([]);
    const long = 'x;\n'.repeat(MAX_TASK_LINES + 1);
    expect(largeTasks(plantedSource(sources, 'workers/tasks/PlantedTask.ts', long))).to.deep.equal([
      `workers/tasks/PlantedTask.ts: ${MAX_TASK_LINES + 1} lines`,
    ]);
  });

  it("keeps the worker's answer off the edge's ChatService, even through another file", () => {
    expect(answersReachingChatService(graph)).to.deep.equal([]);
    const plant = planted(graph, 'src/answers/followUps.ts', 'src/chat/ModelChoice.ts');
    const through = planted(plant, 'src/chat/ModelChoice.ts', 'src/chat/ChatService.ts');
    expect(answersReachingChatService(through)).to.include(
      'src/answers/followUps.ts → src/chat/ModelChoice.ts → src/chat/ChatService.ts',
    );
  });
});
