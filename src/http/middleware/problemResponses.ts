import { isDatabaseUnavailable } from '../../db/databaseUnavailable.ts';
import { AppError, briefOutage } from '../../errors/AppError.ts';
import { Problem, problemFor } from '../problem.ts';
import type { AppMiddleware } from '../state.ts';

/**
 * Turns anything thrown below into problem+json. Known problems keep their status and code,
 * AppErrors get theirs from problemFor (the one mapping of domain errors to HTTP); Koa's own
 * http errors (body too large, bad JSON) are mapped; the rest is a bare 500.
 */
export const problemResponses = (): AppMiddleware => async (ctx, next) => {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      throw new Problem(404, 'not_found', `No route for ${ctx.method} ${ctx.path}.`);
    }
    // The router answers a method the path lacks with a bare 405 (501 for a method it has never
    // heard of, e.g. PROPFIND); both are the client's mistake, so both become a 405 problem.
    if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
      const allow = ctx.response.get('Allow');
      throw new Problem(
        405,
        'method_not_allowed',
        `${ctx.method} is not allowed on ${ctx.path}; use ${allow}.`,
        {
          headers: { Allow: allow },
        },
      );
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
  if (caught instanceof AppError) return problemFor(caught);
  const error = caught as { status?: number; expose?: boolean; type?: string; message?: string };
  if (error?.status === 413 || error?.type === 'entity.too.large') {
    return new Problem(413, 'payload_too_large', 'The request body is too large.');
  }
  if (error?.status === 415)
    return new Problem(415, 'unsupported_media_type', 'This media type is not accepted here.');
  if (error?.status && error.status >= 400 && error.status < 500 && error.expose) {
    return new Problem(error.status, 'bad_request', error.message ?? 'The request could not be understood.');
  }
  if (isDatabaseUnavailable(caught)) {
    // A blip, not a bug: the client may simply try again.
    return problemFor(briefOutage());
  }
  return new Problem(
    500,
    'internal_error',
    'Something went wrong on our side; the request id helps us find it.',
  );
}
