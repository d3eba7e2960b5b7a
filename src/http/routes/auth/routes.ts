import Router from '@koa/router';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { InvalidTokenError } from '../../../auth/AccessTokens.ts';
import { normalizeEmail } from '../../../auth/adminAccount.ts';
import { VERIFY_EMAIL_PURPOSE } from '../../../auth/emailVerification.ts';
import { hashPassword, passwordMatches, spendPasswordCheck } from '../../../auth/passwords.ts';
import { User } from '../../../db/entities/User.ts';
import { AppError, conflict, unauthorized } from '../../../errors/AppError.ts';
import { presentUser } from '../../../presenters/user.ts';
import type { EdgeServices } from '../../EdgeServices.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { jsonBody } from '../../middleware/jsonBody.ts';
import { byClientIp, rateLimit } from '../../middleware/rateLimit.ts';
import type { AppState } from '../../state.ts';
import { parseBody, parseQuery } from '../../validation.ts';
import { loginSchema, logoutSchema, refreshSchema, signupSchema, verifyQuerySchema } from './schema.ts';

/** Sign-up, sign-in and token lifecycle under /api/v1/auth. */
export function authRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens, refreshTokens, queues, limiter, config, logger } = services;
  const router = new Router<AppState>({ prefix: '/auth' });
  const limited = rateLimit(limiter, 'auth', config.rateLimits.auth, byClientIp);
  const body = jsonBody(config.http.maxJsonBytes);

  /** A fresh access token and a refresh token of `family` (new family when omitted). */
  const session = async (user: User, refreshToken: string) => ({
    user: presentUser(user),
    accessToken: await accessTokens.sign({ userId: user.id, role: user.role }),
    refreshToken,
    expiresIn: accessTokens.ttlSeconds,
  });

  router.post('/signup', limited, body, async (ctx) => {
    const input = parseBody(ctx, signupSchema);
    const em = orm.em.fork();
    const user = em.create(User, {
      email: normalizeEmail(input.email),
      name: input.name ?? null,
      passwordHash: await hashPassword(input.password),
    });
    const { token } = refreshTokens.issue(em, user);
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw conflict('An account with this email address already exists.');
      }
      throw error;
    }
    // The account exists whether or not the mail job can be queued now; it can be re-sent later.
    await queues.add('maintenance', 'send-verification-email', { userId: user.id }).catch((error: Error) => {
      logger.warn({ userId: user.id, err: error.message }, 'verification email not queued');
    });
    ctx.status = 201;
    ctx.body = await session(user, token);
  });

  router.post('/login', limited, body, async (ctx) => {
    const input = parseBody(ctx, loginSchema);
    const em = orm.em.fork();
    const user = await em.findOne(
      User,
      { email: normalizeEmail(input.email), disabledAt: null },
      { populate: ['passwordHash'] },
    );
    // Unknown email and wrong password answer alike, after the same amount of hashing work.
    const matches = user
      ? await passwordMatches(user.passwordHash, input.password)
      : await spendPasswordCheck(input.password);
    if (!user || !matches) throw unauthorized('The email address or the password is not correct.');
    const { token } = refreshTokens.issue(em, user);
    await em.flush();
    ctx.body = await session(user, token);
  });

  router.post('/refresh', limited, body, async (ctx) => {
    const input = parseBody(ctx, refreshSchema);
    const rotation = await orm.em.fork().transactional((em) => refreshTokens.rotate(em, input.refreshToken));
    if (!rotation.ok) {
      throw new AppError(rotation.reason, rotationMessage[rotation.reason]);
    }
    ctx.body = await session(rotation.user, rotation.token);
  });

  router.post('/logout', limited, body, async (ctx) => {
    const input = parseBody(ctx, logoutSchema);
    await refreshTokens.revoke(orm.em.fork(), input.refreshToken);
    ctx.status = 204;
  });

  router.get('/verify', limited, async (ctx) => {
    const { token } = parseQuery(ctx, verifyQuerySchema);
    let userId: string;
    try {
      ({ userId } = await accessTokens.verify(token, VERIFY_EMAIL_PURPOSE));
    } catch (error) {
      const expired = error instanceof InvalidTokenError && error.reason === 'token_expired';
      throw new AppError(
        'verification_failed',
        expired ? 'This link has expired; ask for a new one.' : 'This link is not valid.',
      );
    }
    const em = orm.em.fork();
    const user = await em.findOne(User, { id: userId, disabledAt: null });
    if (!user) throw new AppError('verification_failed', 'This link is not valid.');
    user.emailVerifiedAt ??= new Date();
    await em.flush();
    ctx.body = { verified: true, user: presentUser(user) };
  });

  router.get('/me', authenticate(orm, accessTokens), (ctx) => {
    ctx.body = presentUser(ctx.state.user);
  });

  return router;
}

const rotationMessage = {
  refresh_token_invalid: 'The refresh token is not valid or has expired; sign in again.',
  refresh_token_revoked: 'This session was signed out; sign in again.',
  refresh_token_reused:
    'This refresh token was already used, so every session it belongs to is now signed out; sign in again.',
} as const;
