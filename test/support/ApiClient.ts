import { randomBytes } from 'node:crypto';

export interface ApiResponse<Body = any> {
  status: number;
  headers: Headers;
  body: Body;
}

export interface Session {
  user: { id: string; email: string; role: string; emailVerified: boolean };
  accessToken: string;
  refreshToken: string;
}

/** HTTP against a running edge over a real port, JSON in and out. */
export class ApiClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async request<Body = any>(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string>; rawBody?: string } = {},
  ): Promise<ApiResponse<Body>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** A multipart upload of one file in the `file` field, as a browser's form would send it. */
  async upload<Body = any>(
    token: string,
    filename: string,
    bytes: Uint8Array | string,
    field = 'file',
  ): Promise<ApiResponse<Body>> {
    const form = new FormData();
    form.append(field, new Blob([typeof bytes === 'string' ? bytes : new Uint8Array(bytes)]), filename);
    const response = await fetch(`${this.baseUrl}/api/v1/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** A new account with a unique address; returns its session. */
  async signup(label = 'user', headers?: Record<string, string>): Promise<Session & { password: string }> {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const email = `${label}-${randomBytes(5).toString('hex')}@example.com`;
    const response = await this.request<Session>('POST', '/api/v1/auth/signup', {
      body: { email, password },
      headers,
    });
    if (response.status !== 201)
      throw new Error(`signup failed: ${response.status} ${JSON.stringify(response.body)}`);
    return { ...response.body, password };
  }
}
