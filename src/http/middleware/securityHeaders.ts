import type { Middleware } from 'koa';

const API_POLICY = "default-src 'none'; frame-ancestors 'none'";
const TOOL_PAGE_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

/**
 * Headers every response carries. The API serves data, never pages, so it denies all content;
 * the tool pages (queue dashboard, /docs) load their own scripts and styles; the web app gets its
 * own policy (`webApp.policy` for the paths `webApp.serves`).
 */
export const securityHeaders =
  (options: {
    allowPagesUnder: string[];
    webApp?: { serves: (path: string) => boolean; policy: string };
  }): Middleware =>
  async (ctx, next) => {
    ctx.set({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    const isToolPage = options.allowPagesUnder.some((prefix) => ctx.path.startsWith(prefix));
    ctx.set(
      'Content-Security-Policy',
      isToolPage ? TOOL_PAGE_POLICY : options.webApp?.serves(ctx.path) ? options.webApp.policy : API_POLICY,
    );
    if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    ctx.remove('X-Powered-By');
    await next();
  };
