import { createHash } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type Koa from 'koa';
import type { Context } from 'koa';
import { normalizeEmail } from '../auth/adminAccount.ts';
import { passwordMatches } from '../auth/passwords.ts';
import { User } from '../db/entities/User.ts';
import type { EdgeServices } from './EdgeServices.ts';
import { bearerToken } from './middleware/authenticate.ts';
import { Problem } from './problem.ts';
import type { AppState } from './state.ts';

export const BULL_BOARD_PATH = '/admin/queues';
const BASIC_CACHE_MS = 60_000;

/**
 * Bull Board at /admin/queues, for administrators: an admin's access token (Bearer), or, so a
 * browser can open it, HTTP basic auth with an admin's email and password. The dashboard fires
 * many requests; a successful basic login is remembered for a minute instead of re-hashing.
 */
export async function mountBullBoard(app: Koa<AppState>, services: EdgeServices): Promise<void> {
  const verifiedBasic = new Map<string, number>();

  const isAdminRequest = async (ctx: Context): Promise<boolean> => {
    const bearer = bearerToken(ctx);
    if (bearer) {
      const claims = await services.accessTokens.verify(bearer).catch(() => undefined);
      if (!claims) return false;
      const user = await services.orm.em
        .fork()
        .findOne(User, { id: claims.userId, role: 'admin', disabledAt: null });
      return Boolean(user);
    }
    const [scheme, encoded] = ctx.get('authorization').split(' ');
    if (scheme?.toLowerCase() !== 'basic' || !encoded) return false;
    const cacheKey = createHash('sha256').update(encoded).digest('hex');
    if ((verifiedBasic.get(cacheKey) ?? 0) > Date.now()) return true;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator < 0) return false;
    const user = await services.orm.em
      .fork()
      .findOne(
        User,
        { email: normalizeEmail(decoded.slice(0, separator)), role: 'admin', disabledAt: null },
        { populate: ['passwordHash'] },
      );
    if (!user || !(await passwordMatches(user.passwordHash, decoded.slice(separator + 1)))) return false;
    verifiedBasic.set(cacheKey, Date.now() + BASIC_CACHE_MS);
    return true;
  };

  app.use(async (ctx, next) => {
    if (ctx.path !== BULL_BOARD_PATH && !ctx.path.startsWith(`${BULL_BOARD_PATH}/`)) return next();
    if (!(await isAdminRequest(ctx))) {
      throw new Problem(401, 'unauthorized', 'The queue dashboard needs an administrator.', {
        headers: { 'WWW-Authenticate': 'Basic realm="Parley admin", charset="UTF-8"' },
      });
    }
    return next();
  });

  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({ queues: services.queues.all().map((queue) => new BullMQAdapter(queue)), serverAdapter });
  // The adapter's plugin type is written against Koa 2's typings; at runtime it is plain middleware.
  app.use(serverAdapter.registerPlugin() as unknown as Koa.Middleware);
}
