import type { Context } from 'koa';

/**
 * Whether a request comes from a page of this site, or from no page at all. Browsers send Origin
 * with every POST, so a page elsewhere cannot hide where it is; programs that send none are not
 * browsers and carry no cookies of a user. Origin's host must be the Host asked for (or
 * X-Forwarded-Host with TRUST_PROXY: Koa's ctx.host). "null" (sandboxed frames) is foreign.
 */
export function fromThisSite(ctx: Context): boolean {
  const origin = ctx.get('origin');
  if (origin === '') return true;
  if (!URL.canParse(origin)) return false;
  return new URL(origin).host === ctx.host.toLowerCase();
}
