/**
 * The import graph's and the sources' rules, as pure functions of the files: each returns the
 * violations it finds ("file → target" or "file: why"), so the layering test can run it on the
 * real tree and on a planted violation alike.
 */

/** file → the project files it imports (relative paths from the repository root). */
export type ImportGraph = Map<string, string[]>;
/** file → its text. */
export type Sources = Map<string, string>;

/** Every cycle found by a depth-first walk, each as the path that closes it. */
export function cycles(graph: ImportGraph): string[][] {
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

/** src/chat/x.ts → src/chat; src/config.ts → null (a file of the root). */
export const folderOf = (file: string) =>
  file.split('/').length > 2 ? file.split('/').slice(0, 2).join('/') : null;

/** The folders of src/ as a graph of their own. */
export function folderGraph(graph: ImportGraph): ImportGraph {
  const folders: ImportGraph = new Map();
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    if (!from?.startsWith('src/')) continue;
    for (const target of targets) {
      const to = folderOf(target);
      if (to && to !== from && to.startsWith('src/')) folders.set(from, [...(folders.get(from) ?? []), to]);
    }
  }
  return folders;
}

/** Who may import the transports: the transports themselves and the edge's composition. */
const TRANSPORT = /^src\/(http|realtime)\//;
const MAY_IMPORT_TRANSPORTS = [/^src\/(http|realtime)\//, /^src\/compose\/edge\.ts$/];

/** Domain code, the relay and the workers never import the HTTP layer or the Socket.IO server. */
export function transportImports(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [file, targets] of graph) {
    if (MAY_IMPORT_TRANSPORTS.some((allowed) => allowed.test(file))) continue;
    for (const target of targets) if (TRANSPORT.test(target)) violations.push(`${file} → ${target}`);
  }
  return violations;
}

/** The processes' entry points in src/: the only files there above the composition. */
export const ENTRY_POINTS = /^src\/(start|web|migrate|mikro-orm\.config)\.ts$/;
/** The foundation every layer reads: settings and logging, which import no folder of src/. */
const FOUNDATION = /^src\/(config|logger)\.ts$/;
const COMPOSITION = /^src\/compose\//;

/**
 * No import runs upward. The layers, bottom up: the foundation (config, logger); the folders of
 * src/ (among themselves a one-way graph: see folderGraph); the composition (src/compose/, where
 * each process's parts are built); the processes: entry points (src/start.ts, src/web.ts, …) and
 * workers/ (entry points and task adapters). So the foundation imports only the foundation,
 * nothing below the composition imports it, nothing in src/ but an entry point imports workers/,
 * and nothing imports an entry point of src/.
 */
export function upwardImports(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [file, targets] of graph) {
    if (!file.startsWith('src/')) continue;
    const entry = ENTRY_POINTS.test(file);
    for (const target of targets) {
      const upward =
        (FOUNDATION.test(file) && !FOUNDATION.test(target)) ||
        (COMPOSITION.test(target) && !COMPOSITION.test(file) && !entry) ||
        (target.startsWith('workers/') && !entry) ||
        ENTRY_POINTS.test(target);
      if (upward) violations.push(`${file} → ${target}`);
    }
  }
  for (const [file, targets] of graph)
    if (file.startsWith('workers/'))
      for (const target of targets.filter((target) => ENTRY_POINTS.test(target)))
        violations.push(`${file} → ${target}`);
  return violations;
}

/** Only src/redis/ talks to ioredis: connection roles, cluster behaviour and key names live there. */
export function ioredisImports(sources: Sources): string[] {
  return [...sources]
    .filter(([file]) => /^(src|workers)\//.test(file) && !file.startsWith('src/redis/'))
    .filter(([, text]) => /^\s*(?:import|export)\b[^;]*?\bfrom\s+['"]ioredis['"]/m.test(text))
    .map(([file]) => `${file}: imports ioredis`);
}

/** A template that builds a Redis name: `${prefix}:…`, or a hash tag `{${…}}`. */
const KEY_TEMPLATE = /`\$\{[^}`]*prefix[^}`]*\}[:{]|`\{\$\{[^}`]*prefix/i;
export const KEY_MAP = 'src/redis/keys.ts';

/** Only the key map builds a Redis key or channel name. */
export function keyNamesOutsideKeyMap(sources: Sources): string[] {
  const violations: string[] = [];
  for (const [file, text] of sources) {
    if (!/^(src|workers)\//.test(file) || file === KEY_MAP) continue;
    text.split('\n').forEach((line, index) => {
      if (KEY_TEMPLATE.test(line)) violations.push(`${file}:${index + 1}: builds a Redis name`);
    });
  }
  return violations;
}

export const MAX_TASK_LINES = 80;

/** A task is a thin adapter: payload → domain call, its retry policy, onFailed. */
export function largeTasks(sources: Sources): string[] {
  return [...sources]
    .filter(([file]) => file.startsWith('workers/tasks/'))
    .map(([file, text]) => [file, text.trimEnd().split('\n').length] as const)
    .filter(([, lines]) => lines > MAX_TASK_LINES)
    .map(([file, lines]) => `${file}: ${lines} lines`);
}

const CHAT_SERVICE = 'src/chat/ChatService.ts';

/** The worker's answer never reaches the edge's ChatService, not even through another file. */
export function answersReachingChatService(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const file of graph.keys()) {
    if (!file.startsWith('src/answers/')) continue;
    const seen = new Set<string>();
    const stack = [[file]];
    while (stack.length > 0) {
      const path = stack.pop()!;
      const last = path.at(-1)!;
      if (last === CHAT_SERVICE) {
        violations.push(path.join(' → '));
        break;
      }
      for (const next of graph.get(last) ?? [])
        if (!seen.has(next)) {
          seen.add(next);
          stack.push([...path, next]);
        }
    }
  }
  return violations;
}
