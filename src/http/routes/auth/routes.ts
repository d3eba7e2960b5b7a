import Router from '@koa/router';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { InvalidTokenError } from '../../../auth/AccessTokens.ts';
import { normalizeEmail } from '../../../auth/adminAccount.ts';
import { VERIFY_EMAIL_PURPOSE } from '../../../auth/emailVerification.ts';
import { hashPassword, passwordMatches, spendPasswordCheck } from '../../../auth/passwords.ts';
import { User } from '../../../db/entities/User.ts';
import { AppError, conflict, forbidden, rateLimited, unauthorized } from '../../../errors/AppError.ts';
import { presentUser } from '../../../presenters/user.ts';
import type { EdgeServices } from '../../EdgeServices.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { jsonBody } from '../../middleware/jsonBody.ts';
import { byClientIp, rateLimit } from '../../middleware/rateLimit.ts';
import { fromThisSite } from '../../sameOrigin.ts';
import type { AppContext, AppState } from '../../state.ts';
import { parseBody, parseQuery } from '../../validation.ts';
import { clearRefreshCookie, readRefreshCookie, setRefreshCookie } from './refreshCookie.ts';
import {
  loginSchema,
  logoutSchema,
  refreshSchema,
  refreshToken as refreshTokenSchema,
  signupSchema,
  verifyQuerySchema,
} from './schema.ts';

type SessionTransport = 'body' | 'cookie';

/**
 * The cookie is sent by the browser on its own, so a request that relies on it must come from
 * a page of this site (SameSite=Strict already keeps other sites' requests cookie-less; this
 * holds where SameSite does not, e.g. a sibling subdomain, which is same-site).
 */
function requireThisSite(ctx: AppContext, publicUrl: string | undefined): void {
  if (!fromThisSite(ctx, publicUrl))
    throw forbidden(
      'Cookie sessions are for pages of this site; other clients send the refresh token in the body.',
    );
}

/** The cookie's token if it is well-formed; a malformed one counts as absent. */
function cookieToken(ctx: AppContext): string | undefined {
  const value = readRefreshCookie(ctx);
  return value !== undefined && refreshTokenSchema.safeParse(value).success ? value : undefined;
}

/** Sign-up, sign-in and token lifecycle under /api/v1/auth. */
export function authRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens, refreshTokens, queues, limiter, loginThrottle, config, logger } = services;
  const router = new Router<AppState>({ prefix: '/auth' });
  const limited = rateLimit(limiter, 'auth', config.rateLimits.auth, byClientIp);
  const body = jsonBody(config.http.maxJsonBytes);

  /**
   * The answer that starts or continues a session: a fresh access token, and the refresh token
   * in the JSON (API clients) or only in the httpOnly cookie (browsers: `session: "cookie"`).
   */
  const session = async (ctx: AppContext, user: User, refreshToken: string, transport: SessionTransport) => {
    // Tokens are never for a cache to keep.
    ctx.set('Cache-Control', 'no-store');
    const access = {
      user: presentUser(user),
      accessToken: await accessTokens.sign({ userId: user.id, role: user.role }),
    };
    if (transport === 'cookie') {
      setRefreshCookie(ctx, refreshToken, refreshTokens.ttlSeconds);
      return { ...access, expiresIn: accessTokens.ttlSeconds };
    }
    return { ...access, refreshToken, expiresIn: accessTokens.ttlSeconds };
  };

  router.post('/signup', limited, body, async (ctx) => {
    const input = parseBody(ctx, signupSchema);
    if (input.session === 'cookie') requireThisSite(ctx, config.http.publicUrl);
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
    ctx.body = await session(ctx, user, token, input.session ?? 'body');
  });

  // Login is not under the per-IP request limit: only its failures count (LoginThrottle), so one
  // person's wrong passwords lock only that account, and good logins never count.
  router.post('/login', body, async (ctx) => {
    const input = parseBody(ctx, loginSchema);
    if (input.session === 'cookie') requireThisSite(ctx, config.http.publicUrl);
    const email = normalizeEmail(input.email);
    // Before any lookup or hashing, so a locked account answers alike whether or not it exists.
    const gate = await loginThrottle.begin(email, ctx.ip);
    if (!gate.allowed) throw rateLimited(gate.retryAfterSeconds, 'failed sign-ins');
    let outcome: 'failed' | 'succeeded' | 'abandoned' = 'abandoned';
    try {
      const em = orm.em.fork();
      const user = await em.findOne(User, { email, disabledAt: null }, { populate: ['passwordHash'] });
      // Unknown email and wrong password answer alike, after the same amount of hashing work.
      const matches = user
        ? await passwordMatches(user.passwordHash, input.password)
        : await spendPasswordCheck(input.password);
      if (!user || !matches) {
        outcome = 'failed';
        throw unauthorized('The email address or the password is not correct.');
      }
      outcome = 'succeeded';
      const { token } = refreshTokens.issue(em, user);
      await em.flush();
      ctx.body = await session(ctx, user, token, input.session ?? 'body');
    } finally {
      // A failure stays counted; anything else gives its count back.
      if (outcome === 'succeeded') await loginThrottle.succeeded(email, ctx.ip);
      else if (outcome === 'abandoned') await loginThrottle.abandoned(email, ctx.ip);
    }
  });

  router.post('/refresh', limited, body, async (ctx) => {
    const input = parseBody(ctx, refreshSchema);
    const transport: SessionTransport = input.refreshToken === undefined ? 'cookie' : 'body';
    if (transport === 'cookie') requireThisSite(ctx, config.http.publicUrl);
    const token = input.refreshToken ?? cookieToken(ctx);
    if (token === undefined) {
      clearRefreshCookie(ctx);
      throw new AppError(
        'refresh_token_invalid',
        'No refresh token: send { "refreshToken" }, or sign in with session "cookie" first.',
      );
    }
    // A cookie token is rotated exactly like a body token: a spent one coming back revokes its family.
    const rotation = await orm.em.fork().transactional((em) => refreshTokens.rotate(em, token));
    if (!rotation.ok) {
      if (transport === 'cookie') clearRefreshCookie(ctx);
      throw new AppError(rotation.reason, rotationMessage[rotation.reason]);
    }
    ctx.body = await session(ctx, rotation.user, rotation.token, transport);
  });

  router.post('/logout', limited, body, async (ctx) => {
    const input = parseBody(ctx, logoutSchema);
    if (input.refreshToken === undefined) {
      requireThisSite(ctx, config.http.publicUrl);
      const token = cookieToken(ctx);
      if (token !== undefined) await refreshTokens.revoke(orm.em.fork(), token);
      clearRefreshCookie(ctx);
    } else {
      await refreshTokens.revoke(orm.em.fork(), input.refreshToken);
    }
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
