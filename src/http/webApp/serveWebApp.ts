import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { Logger } from '../../logger.ts';
import { Problem } from '../problem.ts';
import type { AppContext, AppMiddleware } from '../state.ts';
import { isSystemPath } from './appPaths.ts';

/** Precompressed siblings the build writes next to each compressible file (`a.js.br`, `a.js.gz`). */
const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;

/** Vite puts content-hashed file names under assets/: a new build means new names. */
const HASHED_ASSETS = 'assets/';

/**
 * Serves the built web app (GET and HEAD): its files as they are, hashed assets cacheable
 * forever, and index.html for any other page path (client-side routes). Mounted after every
 * route of the edge, and never answers a system path (API, health, docs, Socket.IO, Bull Board).
 * The folder is read per request, so a rebuild is served without a restart.
 */
export function serveWebApp(options: { distDir: string; logger: Logger }): AppMiddleware {
  const distDir = resolve(options.distDir);
  let missingReported = false;
  if (!existsSync(join(distDir, 'index.html'))) {
    options.logger.warn({ distDir }, 'web app not built: / answers 503 until `npm run build:web` has run');
    missingReported = true;
  }

  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || isSystemPath(ctx.path)) return next();
    const file = appFile(ctx.path);
    if (file === undefined) return next();
    // Two labels, not one per path: asset names change with every build.
    ctx.state.routeLabel = file.startsWith(HASHED_ASSETS) ? '/assets/*' : '/ (web app)';
    if (await sendFile(ctx, distDir, file || 'index.html')) return;
    // A missing file (it has an extension) is a 404; anything else is a page of the app.
    if (extname(file) !== '') return next();
    if (await sendFile(ctx, distDir, 'index.html')) return;
    if (!missingReported) {
      options.logger.warn({ distDir }, 'web app not built: run `npm run build:web`');
      missingReported = true;
    }
    throw new Problem(503, 'web_app_unavailable', 'The web app is not built; run `npm run build:web`.');
  };
}

/**
 * The URL path as a path relative to the dist folder ('' for `/`), or undefined for a hidden
 * file. `.` and `..` segments (also percent-encoded), backslashes and NUL are refused outright.
 */
function appFile(urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw invalidPath();
  }
  const segments = decoded.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..' || /[\\\0]/.test(segment)))
    throw invalidPath();
  if (segments.some((segment) => segment.startsWith('.'))) return undefined;
  return segments.join('/');
}

const invalidPath = () => new Problem(400, 'bad_request', 'The path is not valid.');

async function fileSize(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const stats = await stat(path);
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined;
  }
}

/** Answers with `file` from `distDir` (or 304), compressed when the client accepts it; false when absent. */
async function sendFile(ctx: AppContext, distDir: string, file: string): Promise<boolean> {
  const path = resolve(distDir, file);
  // appFile already refused every way out of the folder; this keeps it so if that ever changes.
  if (!path.startsWith(distDir + sep)) return false;
  const original = await fileSize(path);
  if (!original) return false;

  const available: { name: string; suffix: string; size: number }[] = [];
  for (const encoding of ENCODINGS) {
    const compressed = await fileSize(path + encoding.suffix);
    if (compressed) available.push({ ...encoding, size: compressed.size });
  }
  // Ours is the order of preference (br is smaller) among what the client accepts at all.
  const chosen = available.find((encoding) => ctx.acceptsEncodings(encoding.name) === encoding.name);

  ctx.status = 200;
  ctx.type = extname(file) || 'application/octet-stream';
  ctx.set(
    'Cache-Control',
    file.startsWith(HASHED_ASSETS) ? 'public, max-age=31536000, immutable' : 'no-cache',
  );
  if (available.length) ctx.vary('Accept-Encoding');
  // Size and time identify a build's file; each encoding is a different representation.
  ctx.etag = `W/"${original.size.toString(36)}-${Math.floor(original.mtimeMs).toString(36)}${chosen ? `-${chosen.name}` : ''}"`;
  if (ctx.fresh) {
    ctx.status = 304;
    return true;
  }
  if (chosen) ctx.set('Content-Encoding', chosen.name);
  ctx.body = createReadStream(chosen ? path + chosen.suffix : path);
  ctx.length = chosen ? chosen.size : original.size;
  return true;
}
