import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

/**
 * `npm run build:web`: builds the web client (web/) with Vite into web/dist, then writes a .br
 * and a .gz next to every compressible file, which the edge serves to clients that accept them.
 * `ensureWebBuilt()` skips all of it while the last build is newer than every source file,
 * so `npm start` (its prestart hook) and the tests' `before` cost a directory walk when nothing
 * changed. Paths come from this file's location, never from the working directory.
 */

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));
export const WEB_DIST_DIR = join(WEB_DIR, 'dist');
/** Entries of web/ that are not sources: the output, dependencies, builds in progress. */
const NOT_SOURCES = /^(dist|node_modules|\.build-.*|\.dist-old-.*)$/;
const COMPRESSIBLE = new Set([
  '.js',
  '.mjs',
  '.css',
  '.html',
  '.svg',
  '.json',
  '.webmanifest',
  '.txt',
  '.xml',
  '.map',
  '.wasm',
]);
/**
 * Written last into a finished build: a dist made some other way (a bare `vite build`, without
 * the compressed files) or cut short is not taken as current. A dot file, so the edge never serves it.
 */
export const BUILD_MARK = '.parley-build';
/** Below this, compression saves less than a packet. */
const MIN_COMPRESSIBLE_BYTES = 256;

export interface BuildOptions {
  /** Build even when the last build is current (`npm run build:web`). */
  force?: boolean;
  log?: (line: string) => void;
  /** The Vite project (its vite.config.ts builds into `dist`); web/ of this checkout by default. */
  webDir?: string;
}

const running = new Map<string, Promise<string>>();

/** Builds `<webDir>/dist` when it is missing or older than a source file; returns its path. */
export function ensureWebBuilt(options: BuildOptions = {}): Promise<string> {
  const webDir = resolve(options.webDir ?? WEB_DIR);
  // One build per project and process at a time: concurrent callers share it.
  let build = running.get(webDir);
  if (!build) {
    build = buildIfStale(webDir, options).finally(() => running.delete(webDir));
    running.set(webDir, build);
  }
  return build;
}

async function buildIfStale(webDir: string, { force = false, log = () => {} }: BuildOptions) {
  const distDir = join(webDir, 'dist');
  if (!existsSync(join(webDir, 'index.html'))) {
    // An image that carries only the built app (no sources) serves what it has.
    log('web/ has no sources here; serving web/dist as it is');
    return distDir;
  }
  if (!force && (await isCurrent(webDir, distDir))) {
    log('web app is up to date (web/dist)');
    return distDir;
  }
  const started = performance.now();
  await build(webDir, distDir);
  log(`web app built into web/dist in ${((performance.now() - started) / 1_000).toFixed(1)} s`);
  return distDir;
}

async function isCurrent(webDir: string, distDir: string): Promise<boolean> {
  const built = await stat(join(distDir, BUILD_MARK)).catch(() => undefined);
  if (!built) return false;
  return (await newestSourceTime(webDir, true)) < built.mtimeMs;
}

/** The newest mtime of the files and folders under `dir` (web/'s own changes with every build). */
async function newestSourceTime(dir: string, top = false): Promise<number> {
  let newest = top ? 0 : (await stat(dir)).mtimeMs;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (top && NOT_SOURCES.test(entry.name)) continue;
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? await newestSourceTime(path) : (await stat(path)).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

/**
 * Builds into a folder of its own and swaps it in, so a server never reads a half-written
 * dist, and two processes building at once do not write into one folder.
 */
async function build(webDir: string, distDir: string): Promise<void> {
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    throw new Error(
      'Building the web app needs the dev dependencies (vite): run `npm install` (without --omit=dev).',
    );
  }
  const staging = join(webDir, `.build-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await vite.build({
      configFile: join(webDir, 'vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
      build: { outDir: staging, emptyOutDir: true },
    });
    await compressFiles(staging);
    await writeFile(join(staging, BUILD_MARK), `${new Date().toISOString()}\n`);
    await swapIn(webDir, staging, distDir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function swapIn(webDir: string, staging: string, distDir: string): Promise<void> {
  const old = join(webDir, `.dist-old-${process.pid}-${randomBytes(4).toString('hex')}`);
  await rename(distDir, old).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  try {
    await rename(staging, distDir);
  } catch (error) {
    // Another process swapped its build in meanwhile: the same sources, so that one serves.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  } finally {
    await rm(old, { recursive: true, force: true });
  }
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** Writes `<file>.br` and `<file>.gz` for each compressible file under `dir` (when smaller). */
export async function compressFiles(dir: string): Promise<void> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && COMPRESSIBLE.has(extname(entry.name)))
    .map((entry) => join(entry.parentPath, entry.name));
  await Promise.all(
    files.map(async (file) => {
      const bytes = await readFile(file);
      if (bytes.length < MIN_COMPRESSIBLE_BYTES) return;
      const [brotli, gzipped] = await Promise.all([
        brotliAsync(bytes, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
            [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          },
        }),
        gzipAsync(bytes, { level: constants.Z_BEST_COMPRESSION }),
      ]);
      if (brotli.length < bytes.length) await writeFile(`${file}.br`, brotli);
      if (gzipped.length < bytes.length) await writeFile(`${file}.gz`, gzipped);
    }),
  );
}

if (import.meta.main) {
  ensureWebBuilt({
    force: process.argv.includes('--force'),
    log: (line) => process.stdout.write(`${line}\n`),
  }).catch((error: Error) => {
    console.error(`web build failed: ${error.message}`);
    process.exitCode = 1;
  });
}
