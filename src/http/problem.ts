import type { AppError, AppErrorCode, FieldError } from '../errors/AppError.ts';

export type { FieldError };

/**
 * RFC 9457 problem details. Every error that reaches an HTTP client is one of these, with a
 * stable `code` clients can switch on: an AppError thrown by domain code becomes one here
 * (`problemFor`), HTTP-only refusals (body parsing, 405, 413, 415…) are built as Problems
 * directly. Anything else becomes a 500 whose detail says nothing internal.
 */

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export class Problem extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors?: FieldError[];
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(
    status: number,
    code: string,
    detail: string,
    options: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      extensions?: Record<string, unknown>;
    } = {},
  ) {
    super(detail);
    this.name = 'Problem';
    this.status = status;
    this.code = code;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }

  toBody(): ProblemBody {
    return {
      type: `https://parley.dev/problems/${this.code.replaceAll('_', '-')}`,
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(this.errors ? { errors: this.errors } : {}),
      ...this.extensions,
    };
  }
}

/** The HTTP status of each AppError code. */
const STATUS: Record<AppErrorCode, number> = {
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  unauthorized: 401,
  token_expired: 401,
  refresh_token_invalid: 401,
  refresh_token_revoked: 401,
  refresh_token_reused: 401,
  verification_failed: 400,
  validation_failed: 400,
  unsupported_document: 415,
  rate_limited: 429,
  unavailable: 503,
  embedder_unavailable: 503,
  unknown_model: 422,
};

/** An AppError as problem+json: its status by code, `retryAfterSeconds` as a Retry-After header. */
export function problemFor(error: AppError): Problem {
  const { retryAfterSeconds, errors, extensions } = error.details;
  return new Problem(STATUS[error.code], error.code, error.message, {
    errors,
    extensions,
    headers: retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
  });
}
export const validationFailed = (errors: FieldError[]) =>
  new Problem(400, 'validation_failed', 'The request is not valid; see errors for each field.', { errors });
