import { randomUUID } from 'node:crypto';
import type { AppMiddleware } from '../state.ts';

const ACCEPTED_ID = /^[\w.:-]{1,128}$/;

/** Gives every request an id (a sane incoming `X-Request-Id` is kept) and echoes it back. */
export const requestId = (): AppMiddleware => async (ctx, next) => {
  const incoming = ctx.get('x-request-id');
  ctx.state.requestId = ACCEPTED_ID.test(incoming) ? incoming : randomUUID();
  ctx.set('X-Request-Id', ctx.state.requestId);
  await next();
};
