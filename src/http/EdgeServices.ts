import type { AccessTokens } from '../auth/AccessTokens.ts';
import type { RefreshTokens } from '../auth/RefreshTokens.ts';
import type { Config } from '../config.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import type { Queues } from '../queues/Queues.ts';
import type { RateLimiter } from '../rateLimit/RateLimiter.ts';
import type { Presence } from '../realtime/Presence.ts';

/** What the HTTP routes work with; built once per edge process. */
export interface EdgeServices {
  config: Config;
  logger: Logger;
  orm: Orm;
  queues: Queues;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  limiter: RateLimiter;
  presence: Presence;
}
