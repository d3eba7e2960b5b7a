import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { Problem } from '../problem.ts';

/**
 * JSON request bodies only, up to `limitBytes`: another content type is 415, a larger body 413,
 * broken JSON 400. Used on the routes that take JSON, so uploads can take multipart instead.
 */
export function jsonBody(limitBytes: number): Middleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: limitBytes, encoding: 'utf-8' });
  return async (ctx, next) => {
    const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
    if (hasBody && !ctx.is('application/json')) {
      throw new Problem(415, 'unsupported_media_type', 'Send the body as application/json.');
    }
    try {
      await parse(ctx, async () => {});
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 413)
        throw new Problem(413, 'payload_too_large', `The JSON body is larger than ${limitBytes} bytes.`);
      throw new Problem(400, 'invalid_json', 'The body is not valid JSON.');
    }
    await next();
  };
}
