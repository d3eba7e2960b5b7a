import type { Context } from 'koa';

/**
 * The browser's refresh token: an httpOnly cookie page scripts cannot read, sent only to the
 * auth routes (Path) and only by pages of this site (SameSite=Strict); Secure whenever the
 * request came over HTTPS (directly, or per X-Forwarded-Proto with TRUST_PROXY).
 */
export const REFRESH_COOKIE = 'parley_refresh';
/** The auth router's mount point (API_PREFIX + /auth): refresh and logout read the cookie. */
const COOKIE_PATH = '/api/v1/auth';

const attributes = (ctx: Context, maxAgeSeconds: number) =>
  [
    `Max-Age=${maxAgeSeconds}`,
    `Path=${COOKIE_PATH}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(ctx.secure ? ['Secure'] : []),
  ].join('; ');

// Written by hand: the `cookies` package Koa uses sends Expires but not Max-Age.
export function setRefreshCookie(ctx: Context, token: string, maxAgeSeconds: number): void {
  ctx.append('Set-Cookie', `${REFRESH_COOKIE}=${token}; ${attributes(ctx, maxAgeSeconds)}`);
}

export function clearRefreshCookie(ctx: Context): void {
  ctx.append('Set-Cookie', `${REFRESH_COOKIE}=; ${attributes(ctx, 0)}`);
}

/** The cookie's value as sent, if any (validated by the caller like a body token). */
export const readRefreshCookie = (ctx: Context): string | undefined =>
  ctx.cookies.get(REFRESH_COOKIE, { signed: false }) || undefined;
