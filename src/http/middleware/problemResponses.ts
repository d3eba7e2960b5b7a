import type { Middleware } from 'koa';
import { Problem } from '../problem.ts';

/**
 * Turns anything thrown below into problem+json. Known problems keep their status and code;
 * Koa's own http errors (body too large, bad JSON) are mapped; the rest is a bare 500.
 */
export const problemResponses = (): Middleware => async (ctx, next) => {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      throw new Problem(404, 'not_found', `No route for ${ctx.method} ${ctx.path}.`);
    }
  } catch (caught) {
    const problem = toProblem(caught);
    if (problem.status >= 500) {
      ctx.state.log?.error({ err: caught }, 'unhandled error');
    }
    ctx.status = problem.status;
    ctx.set(problem.headers);
    ctx.type = 'application/problem+json';
    ctx.body = { ...problem.toBody(), requestId: ctx.state.requestId };
  }
};

function toProblem(caught: unknown): Problem {
  if (caught instanceof Problem) return caught;
  const error = caught as { status?: number; expose?: boolean; type?: string; message?: string };
  if (error?.status === 413 || error?.type === 'entity.too.large') {
    return new Problem(413, 'payload_too_large', 'The request body is too large.');
  }
  if (error?.status === 415)
    return new Problem(415, 'unsupported_media_type', 'This media type is not accepted here.');
  if (error?.status && error.status >= 400 && error.status < 500 && error.expose) {
    return new Problem(error.status, 'bad_request', error.message ?? 'The request could not be understood.');
  }
  return new Problem(
    500,
    'internal_error',
    'Something went wrong on our side; the request id helps us find it.',
  );
}
