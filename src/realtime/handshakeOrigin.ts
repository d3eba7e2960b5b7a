import type { IncomingMessage } from 'node:http';

/**
 * Which pages may open a socket. Browsers always send Origin, so a page elsewhere can't pass for
 * this site: same-origin pages (Origin's host is the Host they asked for) and the origins listed
 * in CORS_ORIGINS get in. Clients that send no Origin are not browsers (a browser page can't
 * drop it) and authenticate with their token like everyone else.
 */
export function handshakeOriginAllowed(
  request: Pick<IncomingMessage, 'headers'>,
  allowedOrigins: readonly string[],
  trustProxy: boolean,
): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin)) return true;
  if (!URL.canParse(origin)) return false; // includes "null" (sandboxed frames, file: pages)
  // Behind a trusted proxy the Host the browser used arrives as X-Forwarded-Host.
  const forwarded = trustProxy ? firstValue(request.headers['x-forwarded-host']) : undefined;
  const host = forwarded ?? request.headers.host;
  return host !== undefined && new URL(origin).host === host.toLowerCase();
}

const firstValue = (header: string | string[] | undefined) =>
  (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim() || undefined;
