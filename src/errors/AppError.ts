/**
 * The errors domain code throws, whatever transport carries them. HTTP turns them into
 * problem+json (src/http/problem.ts: status per code, Retry-After from `retryAfterSeconds`);
 * Socket.IO into ack errors `{ code, message, retryAfterSeconds? }` (src/realtime/answer.ts).
 * `code` is what clients switch on: these strings are part of the API, never rename one.
 */

export type AppErrorCode =
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'unauthorized'
  | 'token_expired'
  | 'refresh_token_invalid'
  | 'refresh_token_revoked'
  | 'refresh_token_reused'
  | 'verification_failed'
  | 'validation_failed'
  | 'unsupported_document'
  | 'rate_limited'
  | 'unavailable'
  | 'embedder_unavailable'
  /**
   * A conversation, or a model's `fallbacks` (admin providers), named a model that is not on
   * GET /models (unknown or disabled).
   */
  | 'unknown_model';

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorDetails {
  /** When to try again: `Retry-After` over HTTP, `retryAfterSeconds` in a socket ack. */
  retryAfterSeconds?: number;
  /** One entry per invalid field (`validation_failed`). */
  errors?: FieldError[];
  /** Extra members of the HTTP problem body. */
  extensions?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly details: AppErrorDetails;

  constructor(code: AppErrorCode, message: string, details: AppErrorDetails = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
}

/** A resource that does not exist, or that the actor may not see (so ids can't be probed). */
export const notFound = (what = 'resource') => new AppError('not_found', `The ${what} does not exist.`);
export const conflict = (message: string) => new AppError('conflict', message);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const unauthorized = (message = 'Authentication is required.') =>
  new AppError('unauthorized', message);
export const unavailable = (message: string, retryAfterSeconds?: number) =>
  new AppError('unavailable', message, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });

export const unknownModel = (ref: string) =>
  new AppError(
    'unknown_model',
    `"${ref.slice(0, 200)}" is not a model you can choose; see GET /api/v1/models.`,
    {
      errors: [{ path: 'model', message: 'is not one of the models of GET /api/v1/models' }],
    },
  );

/** A provider's models name fallbacks that GET /models does not list: each one in `errors`. */
export const unknownFallbacks = (unknown: { path: string; ref: string }[]) =>
  new AppError(
    'unknown_model',
    `${unknown
      .slice(0, 5)
      .map(({ ref }) => `"${ref.slice(0, 200)}"`)
      .join(
        ', ',
      )} ${unknown.length === 1 ? 'is not a model' : 'are not models'} of GET /api/v1/models: a fallback must name one.`,
    {
      errors: unknown.map(({ path, ref }) => ({
        path,
        message: `"${ref.slice(0, 200)}" is not one of the models of GET /api/v1/models`,
      })),
    },
  );

/** The database is away for a moment (see db/databaseUnavailable.ts): the same call may succeed soon. */
export const briefOutage = () =>
  unavailable('The service is briefly unavailable; try again in a few seconds.', 5);

/**
 * Every 429 there is: the HTTP rate limits (`requests`) and the socket message budget
 * (`messages`, spent by chat:send, system:ping and refused socket calls).
 */
export const rateLimited = (retryAfterSeconds: number, what: 'requests' | 'messages' | 'failed sign-ins') =>
  new AppError('rate_limited', `Too many ${what}; try again in ${retryAfterSeconds} s.`, {
    retryAfterSeconds,
  });
