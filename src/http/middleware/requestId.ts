import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

const ACCEPTED_ID = /^[\w.:-]{1,128}$/;

/** Gives every request an id (a sane incoming `X-Request-Id` is kept) and echoes it back. */
export const requestId = (): Middleware => async (ctx, next) => {
  const incoming = ctx.get('x-request-id');
  ctx.state.requestId = ACCEPTED_ID.test(incoming) ? incoming : randomUUID();
  ctx.set('X-Request-Id', ctx.state.requestId);
  await next();
};
