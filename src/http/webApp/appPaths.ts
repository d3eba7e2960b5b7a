import { BULL_BOARD_PATH } from '../bullBoard.ts';

/**
 * Paths the edge answers itself; every other path belongs to the web app (its files, or
 * index.html for a client-side route). Matched by whole segments: `/api` and `/api/…` are the
 * API's, `/apiary` would be the app's.
 */
export const SYSTEM_PATHS = [
  '/api',
  '/health',
  '/metrics',
  '/docs',
  '/openapi.json',
  '/socket.io',
  BULL_BOARD_PATH,
] as const;

export const isSystemPath = (path: string): boolean =>
  SYSTEM_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));

export const isAppPath = (path: string): boolean => !isSystemPath(path);

/** The app's own files only: no inline script or style, no CDN, no framing. */
export const APP_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');
