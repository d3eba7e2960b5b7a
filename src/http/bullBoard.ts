import { timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type Koa from 'koa';
import type { Queues } from '../queues/Queues.ts';
import { Problem } from './problem.ts';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Bull Board at /admin/queues. Until accounts exist it is closed unless ADMIN_PASSWORD is set,
 * and then guarded by HTTP basic auth (user `admin`).
 */
export async function mountBullBoard(
  app: Koa,
  queues: Queues,
  adminPassword: string | undefined,
): Promise<void> {
  app.use(async (ctx, next) => {
    if (ctx.path !== BULL_BOARD_PATH && !ctx.path.startsWith(`${BULL_BOARD_PATH}/`)) return next();
    if (!adminPassword) {
      throw new Problem(
        404,
        'not_found',
        'The queue dashboard is disabled: set ADMIN_PASSWORD to enable it.',
      );
    }
    if (!basicAuthMatches(ctx.get('authorization'), adminPassword)) {
      throw new Problem(401, 'unauthorized', 'Admin credentials are required.', {
        headers: { 'WWW-Authenticate': 'Basic realm="Parley admin", charset="UTF-8"' },
      });
    }
    return next();
  });

  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({ queues: queues.all().map((queue) => new BullMQAdapter(queue)), serverAdapter });
  // The adapter's plugin type is written against Koa 2's typings; at runtime it is plain middleware.
  app.use(serverAdapter.registerPlugin() as unknown as Koa.Middleware);
}

function basicAuthMatches(header: string, password: string): boolean {
  const [scheme, encoded] = header.split(' ');
  if (scheme?.toLowerCase() !== 'basic' || !encoded) return false;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const expected = Buffer.from(`admin:${password}`);
  const given = Buffer.from(decoded);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
