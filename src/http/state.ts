import type { RouterContext } from '@koa/router';
import type { Middleware, ParameterizedContext } from 'koa';
import type { UploadedFile } from 'multer';
import type { User } from '../db/entities/User.ts';
import type { Logger } from '../logger.ts';

/**
 * What middleware puts on `ctx.state`, typed once: the app is `Koa<AppState>` and every router
 * `Router<AppState>`, so handlers read state without casts. `requestId` and `log` are set for every
 * request; `user` and `upload` only behind the middleware that sets them, which is why a route
 * reads them only after `authenticate` / `fileUpload` in its chain.
 */
export interface AppState {
  /** requestId(): the request's id, echoed as X-Request-Id. */
  requestId: string;
  /** requestLogger(): a child logger carrying the request id. */
  log: Logger;
  /** authenticate(): the active account behind the access token. */
  user: User;
  /** fileUpload(): the one file read from the multipart body. */
  upload: UploadedFile;
  /** A 5xx that is the answer itself (readiness' 503), logged by its route: not a failed request. */
  expectedFailure?: boolean;
  /** The metrics' route label of an answer no router made (the web app's files and pages). */
  routeLabel?: string;
}

/** Any request's context, in app-level middleware. */
export type AppContext = ParameterizedContext<AppState>;
/** A route handler's context: AppContext plus the router's `params`. */
export type RouteContext = RouterContext<AppState>;
export type AppMiddleware = Middleware<AppState>;
