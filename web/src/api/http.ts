/**
 * Calls to the REST API under /api/v1: JSON in and out, problem+json errors as ApiError, and one
 * transparent refresh-and-retry when the access token has expired.
 */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fieldErrors: { path: string; message: string }[];

  constructor(
    status: number,
    code: string,
    message: string,
    fieldErrors: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.fieldErrors = fieldErrors;
  }

  /** The detail a person can act on: field messages when the server named fields. */
  describe(): string {
    if (this.fieldErrors.length === 0) return this.message;
    return this.fieldErrors.map((field) => `${field.path}: ${field.message}`).join('; ');
  }
}

interface AuthHooks {
  token(): string | null;
  /** Gets a new access token; false when the session is gone. */
  refresh(): Promise<boolean>;
}

let auth: AuthHooks = { token: () => null, refresh: async () => false };

/** The session module plugs itself in here (keeps http free of session imports). */
export const useAuthHooks = (hooks: AuthHooks) => {
  auth = hooks;
};

export interface RequestOptions {
  body?: unknown;
  /** Without the access token (sign-in, refresh…). */
  anonymous?: boolean;
  signal?: AbortSignal;
  /** Sees the final response before its body is read (e.g. to tell 200 from 202). */
  onResponse?: (response: Response) => void;
}

export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const tokenUsed = auth.token();
  let response = await send(method, path, options);
  if (response.status === 401 && !options.anonymous && (await isExpiredToken(response.clone()))) {
    // Someone refreshed while this call was out: retry with that token instead of rotating again.
    const renewed = auth.token() !== tokenUsed || (await auth.refresh());
    if (renewed) response = await send(method, path, options);
  }
  options.onResponse?.(response);
  return parse<T>(response);
}

function send(method: string, path: string, { body, anonymous, signal }: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = anonymous ? null : auth.token();
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  // same-origin credentials: the refresh cookie rides along on /api/v1/auth/* only (its Path).
  return fetch(path, { method, headers, body: payload, credentials: 'same-origin', signal });
}

async function isExpiredToken(response: Response): Promise<boolean> {
  try {
    const problem = (await response.json()) as { code?: string };
    // An expired (or, after a key change, unreadable) access token is cured by a refresh.
    return problem.code === 'token_expired' || problem.code === 'token_invalid';
  } catch {
    return false;
  }
}

async function parse<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json: unknown = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const problem = (json ?? {}) as {
      code?: string;
      detail?: string;
      title?: string;
      errors?: { path: string; message: string }[];
    };
    throw new ApiError(
      response.status,
      problem.code ?? `http_${response.status}`,
      problem.detail ?? problem.title ?? `The server answered ${response.status}.`,
      problem.errors ?? [],
    );
  }
  return json as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
