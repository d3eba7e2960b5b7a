import type { Middleware } from 'koa';

/** Headers every response carries; the API serves data, never pages, so it denies all content. */
export const securityHeaders =
  (options: { allowPagesUnder: string[] }): Middleware =>
  async (ctx, next) => {
    ctx.set({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    // Pages we do serve (the queue dashboard) load their own scripts and styles from here.
    const isPage = options.allowPagesUnder.some((prefix) => ctx.path.startsWith(prefix));
    ctx.set(
      'Content-Security-Policy',
      isPage
        ? "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
        : "default-src 'none'; frame-ancestors 'none'",
    );
    if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    ctx.remove('X-Powered-By');
    await next();
  };
