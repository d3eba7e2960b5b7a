import type { Context } from 'koa';
import { type AccessTokens, InvalidTokenError } from '../../auth/AccessTokens.ts';
import { User } from '../../db/entities/User.ts';
import type { Orm } from '../../db/orm.ts';
import { Problem } from '../problem.ts';
import type { AppMiddleware } from '../state.ts';

export const bearerToken = (ctx: Context): string | undefined => {
  const [scheme, token] = ctx.get('authorization').split(' ');
  return scheme?.toLowerCase() === 'bearer' && token ? token : undefined;
};

/**
 * Requires a valid access token and puts the user on ctx.state.user. The user row is read on
 * every request so disabling or deleting an account takes effect at once, not at token expiry.
 */
export const authenticate =
  (orm: Orm, tokens: AccessTokens): AppMiddleware =>
  async (ctx, next) => {
    const token = bearerToken(ctx);
    if (!token)
      throw unauthorizedProblem('unauthorized', 'Send an access token: Authorization: Bearer <token>.');
    let userId: string;
    try {
      ({ userId } = await tokens.verify(token));
    } catch (error) {
      if (error instanceof InvalidTokenError && error.reason === 'token_expired') {
        throw unauthorizedProblem('token_expired', 'The access token has expired; refresh it and retry.');
      }
      throw unauthorizedProblem('unauthorized', 'The access token is not valid.');
    }
    const user = await orm.em.findOne(User, { id: userId, disabledAt: null });
    if (!user)
      throw unauthorizedProblem('unauthorized', 'The account behind this token is no longer active.');
    ctx.state.user = user;
    await next();
  };

const unauthorizedProblem = (code: string, detail: string) =>
  new Problem(401, code, detail, {
    headers: {
      'WWW-Authenticate': `Bearer realm="parley"${code === 'token_expired' ? ', error="invalid_token"' : ''}`,
    },
  });
