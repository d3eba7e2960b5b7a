import type { Context } from 'koa';

/**
 * Whether a request comes from a page of this site, or from no page at all. Browsers send Origin
 * with every POST, so a page elsewhere cannot hide where it is; programs that send none are not
 * browsers and carry no user's cookies. This site is the Host asked for (X-Forwarded-Host with
 * TRUST_PROXY: Koa's ctx.host) and PUBLIC_URL's origin, for a proxy that rewrites Host.
 * "null" (sandboxed frames, file: pages) is never this site.
 */
export function fromThisSite(ctx: Context, publicUrl?: string): boolean {
  const origin = ctx.get('origin');
  if (origin === '') return true;
  if (!URL.canParse(origin)) return false;
  if (publicUrl !== undefined && new URL(publicUrl).origin === origin) return true;
  return new URL(origin).host === ctx.host.toLowerCase();
}
