import { z } from 'zod';
import { sendMessageSchema } from '../../chat/schema.ts';
import { SETTING_SCHEMAS } from '../../settings/RuntimeSettings.ts';
import {
  createProviderSchema,
  providerParams,
  updateProviderSchema,
} from '../routes/admin/providerSchema.ts';
import { listUsersQuery, settingParams, updateUserSchema, userIdParams } from '../routes/admin/schema.ts';
import {
  loginSchema,
  logoutSchema,
  refreshSchema,
  signupSchema,
  verifyQuerySchema,
} from '../routes/auth/schema.ts';
import {
  conversationParams,
  createConversationSchema,
  listConversationsQuery,
  listMessagesQuery,
  updateConversationSchema,
} from '../routes/conversations/schema.ts';
import { documentParams, listDocumentsQuery, uploadDocumentBody } from '../routes/documents/schema.ts';
import { messageParams, streamHeaders, streamQuery } from '../routes/messages/schema.ts';
import { presenceParams } from '../routes/presence.ts';
import { searchQuery } from '../routes/search/schema.ts';
import { MCP_SERVER_OPERATIONS } from './mcpServerOperations.ts';

/**
 * Every HTTP operation, described with the same zod schemas its route validates with; the
 * OpenAPI document is generated from this list (a test checks it covers every registered route).
 */
export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path syntax: /api/v1/conversations/{id} */
  path: string;
  tag: string;
  summary: string;
  /** Longer prose (Markdown), when the summary cannot say it all. */
  description?: string;
  auth?: 'user' | 'admin' | 'metrics';
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Request headers the operation reads (beyond Authorization). */
  headers?: z.ZodObject;
  body?: z.ZodType;
  /** The body's media type (default application/json). */
  consumes?: 'application/json' | 'multipart/form-data';
  /** Status → description of the answers that are not errors. */
  responses: Record<number, string>;
  /**
   * Errors beyond those the shape implies (see errorResponses.ts): status → description, or null
   * to drop a derived one.
   */
  errors?: Record<number, string | null>;
  /** Counted by a rate limit: answers 429 with Retry-After. */
  rateLimited?: boolean;
  /** A valid request body: "Try it out" sends it as is (a test checks it passes `body`). */
  example?: unknown;
  /** Path parameter examples; a uuid parameter gets EXAMPLE_ID unless given. */
  paramExamples?: Record<string, string>;
  produces?: string;
}

/** A well-formed id that names nothing: a request with it is valid, and answers 404. */
export const EXAMPLE_ID = '01a2012f-5c3e-7a10-8b2c-4f1c2a3b4c5d';
const EXAMPLE_ACCOUNT = { email: 'ada@example.com', password: 'correct horse battery' };
const EXAMPLE_REFRESH = { refreshToken: 'M3q1tdyUoJ8Rk2QxVb0sZc7nWfLh5aPeTg9iYuKd4mE' };
const REFRESH_REJECTED =
  'The refresh token is unknown, expired or missing (`refresh_token_invalid`), was logged out (`refresh_token_revoked`), or was already used (`refresh_token_reused`: its family is revoked). In the cookie variant the answer also clears the cookie';
/** How the browser variant works, said once for every auth operation that has one. */
const COOKIE_SESSION =
  'With `"session": "cookie"` (browsers) the refresh token is not in the JSON: it is set as the cookie `parley_refresh` (HttpOnly; SameSite=Strict; Path=/api/v1/auth; Secure over HTTPS, also per X-Forwarded-Proto with TRUST_PROXY; Max-Age = the refresh token lifetime), and the answer is `{ user, accessToken, expiresIn }`.';
const FOREIGN_ORIGIN =
  'A cookie-session request whose `Origin` is not this site (cookie sessions are for the same-origin web app)';

const settingBody = z.object({ value: z.union(Object.values(SETTING_SCHEMAS)) }).strict();

export const OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/health',
    tag: 'health',
    summary: 'Liveness',
    responses: { 200: 'The process runs' },
  },
  {
    method: 'get',
    path: '/health/ready',
    tag: 'health',
    summary: 'Readiness of Postgres, pgvector, Redis and the queues (the LLM is advisory)',
    responses: { 200: 'Ready', 503: 'Not ready; `failing` names the checks that failed' },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'health',
    summary: 'Prometheus metrics',
    auth: 'metrics',
    responses: { 200: 'Prometheus text format' },
    produces: 'text/plain',
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'docs',
    summary: 'This document',
    responses: { 200: 'OpenAPI 3.1' },
  },
  {
    method: 'get',
    path: '/docs',
    tag: 'docs',
    summary: 'Interactive API documentation',
    responses: { 200: 'HTML page' },
    produces: 'text/html',
  },

  {
    method: 'post',
    path: '/api/v1/auth/signup',
    tag: 'auth',
    summary: 'Create an account',
    description: COOKIE_SESSION,
    body: signupSchema,
    example: { ...EXAMPLE_ACCOUNT, name: 'Ada' },
    rateLimited: true,
    responses: { 201: '{ user, accessToken, refreshToken, expiresIn } (cookie variant: no refreshToken)' },
    errors: { 403: FOREIGN_ORIGIN, 409: 'An account with this email address already exists' },
  },
  {
    method: 'post',
    path: '/api/v1/auth/login',
    tag: 'auth',
    summary: 'Sign in',
    description: `${COOKIE_SESSION} Only failed logins are counted, per account and per client IP (LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_IP); once a count is reached the login is refused with 429 and Retry-After before the password is checked.`,
    body: loginSchema,
    example: EXAMPLE_ACCOUNT,
    rateLimited: true,
    responses: { 200: '{ user, accessToken, refreshToken, expiresIn } (cookie variant: no refreshToken)' },
    errors: { 401: 'The email address or the password is not correct', 403: FOREIGN_ORIGIN },
  },
  {
    method: 'post',
    path: '/api/v1/auth/refresh',
    tag: 'auth',
    summary: 'Trade a refresh token for a new pair (rotation; reuse revokes the family)',
    description:
      'Body `{ refreshToken }`: answers `{ user, accessToken, refreshToken, expiresIn }`. Body `{}`: the token is the `parley_refresh` cookie (see signup), rotated like a body token: the answer sets the new cookie and is `{ user, accessToken, expiresIn }`.',
    body: refreshSchema,
    example: EXAMPLE_REFRESH,
    rateLimited: true,
    responses: { 200: 'A new pair (cookie variant: a new cookie, no refreshToken in the JSON)' },
    errors: { 401: REFRESH_REJECTED, 403: FOREIGN_ORIGIN },
  },
  {
    method: 'post',
    path: '/api/v1/auth/logout',
    tag: 'auth',
    summary: 'Revoke a refresh token',
    description:
      'Body `{ refreshToken }` revokes that token; body `{}` revokes the `parley_refresh` cookie’s token and clears the cookie.',
    body: logoutSchema,
    example: EXAMPLE_REFRESH,
    rateLimited: true,
    responses: { 204: 'Revoked (also when the token was unknown or already revoked)' },
    errors: { 403: FOREIGN_ORIGIN },
  },
  {
    method: 'get',
    path: '/api/v1/auth/verify',
    tag: 'auth',
    summary: 'Mark the email address verified',
    description:
      'The verification mail links to the web app’s page `/verify-email?token=…`, which calls this with the token and shows the outcome.',
    query: verifyQuerySchema,
    rateLimited: true,
    responses: { 200: '{ verified, user }' },
    errors: { 400: 'Invalid input, or a link that is not valid or has expired (`verification_failed`)' },
  },
  {
    method: 'get',
    path: '/api/v1/auth/me',
    tag: 'auth',
    summary: 'The signed-in user',
    auth: 'user',
    responses: { 200: 'The user' },
  },

  {
    method: 'post',
    path: '/api/v1/conversations',
    tag: 'conversations',
    summary: 'Start a conversation',
    auth: 'user',
    description:
      '`model` is an `id` of `GET /api/v1/models`; absent or null, answers use the admin’s default model at answer time.',
    body: createConversationSchema,
    example: { title: 'Trip to Lisbon', mode: 'chat' },
    responses: { 201: 'The conversation' },
    errors: {
      404: 'A document in `documentIds` does not exist (or is another user’s)',
      422: '`model` is not one of `GET /api/v1/models` (unknown or disabled): `unknown_model`',
    },
  },
  {
    method: 'get',
    path: '/api/v1/conversations',
    tag: 'conversations',
    summary: 'The user’s conversations, newest activity first',
    auth: 'user',
    query: listConversationsQuery,
    responses: { 200: '{ items, nextCursor }' },
  },
  {
    method: 'get',
    path: '/api/v1/conversations/{id}',
    tag: 'conversations',
    summary: 'A conversation with its documents',
    auth: 'user',
    params: conversationParams,
    responses: { 200: 'The conversation' },
  },
  {
    method: 'patch',
    path: '/api/v1/conversations/{id}',
    tag: 'conversations',
    summary: 'Rename, change mode, documents or model',
    description: '`model: null` goes back to the admin’s default model.',
    auth: 'user',
    params: conversationParams,
    body: updateConversationSchema,
    example: { title: 'Trip to Porto' },
    responses: { 200: 'The conversation' },
    errors: { 422: '`model` is not one of `GET /api/v1/models` (unknown or disabled): `unknown_model`' },
  },
  {
    method: 'delete',
    path: '/api/v1/conversations/{id}',
    tag: 'conversations',
    summary: 'Delete a conversation and its messages',
    auth: 'user',
    params: conversationParams,
    responses: { 204: 'Deleted' },
  },
  {
    method: 'get',
    path: '/api/v1/conversations/{id}/messages',
    tag: 'conversations',
    summary: 'Messages, newest page first, oldest → newest within a page',
    auth: 'user',
    params: conversationParams,
    query: listMessagesQuery,
    description:
      'Each assistant message carries `citations` and `toolCalls` (`[{ callId, name, arguments, status, summary, durationMs }]`: the tools it called).',
    responses: { 200: '{ items, nextCursor }' },
  },
  {
    method: 'post',
    path: '/api/v1/conversations/{id}/messages',
    tag: 'conversations',
    summary: 'Send a message; the answer streams over Socket.IO or SSE',
    auth: 'user',
    params: conversationParams,
    body: sendMessageSchema,
    example: { content: 'What should I see in Lisbon in two days?' },
    rateLimited: true,
    responses: { 202: '{ userMessage, assistantMessage }' },
    errors: { 503: 'The message is saved but the answer could not be queued; regenerate it shortly' },
  },

  {
    method: 'post',
    path: '/api/v1/messages/{id}/cancel',
    tag: 'messages',
    summary: 'Stop an answer, keeping its partial text',
    auth: 'user',
    params: messageParams,
    responses: { 202: 'The message' },
    errors: { 409: 'The answer has already ended (done, failed or cancelled)' },
  },
  {
    method: 'post',
    path: '/api/v1/messages/{id}/regenerate',
    tag: 'messages',
    summary: 'A new answer for the same turn',
    auth: 'user',
    params: messageParams,
    rateLimited: true,
    responses: { 202: '{ assistantMessage }' },
    errors: { 409: 'The answer is still being written; cancel it first' },
  },
  {
    method: 'get',
    path: '/api/v1/messages/{id}/stream',
    tag: 'messages',
    summary: 'The answer’s events as Server-Sent Events (replay after afterSeq, then live)',
    description:
      'Each event has `id:` (its place in the replay log), `event:` (the chat:* name) and `data:` (JSON). A client that reconnects sends the last id it got as `Last-Event-ID` (an EventSource does so by itself) or `?afterSeq=N`; with both, the later position wins. The stream closes after the answer ends; a `Last-Event-ID` that is the end answers 204, which tells an EventSource to stop reconnecting.',
    auth: 'user',
    params: messageParams,
    query: streamQuery,
    headers: streamHeaders,
    responses: {
      200: 'text/event-stream',
      204: 'Last-Event-ID is the end of the answer: nothing more to send',
    },
    produces: 'text/event-stream',
  },

  {
    method: 'post',
    path: '/api/v1/documents',
    tag: 'documents',
    summary: 'Upload a PDF, plain-text or Markdown document (recognised by content) for ingestion',
    auth: 'user',
    body: uploadDocumentBody,
    consumes: 'multipart/form-data',
    rateLimited: true,
    responses: {
      202: 'The document, `queued`; ingestion runs in a worker (document:progress events)',
      200: 'The same bytes were uploaded before: the existing document',
    },
  },
  {
    method: 'get',
    path: '/api/v1/documents',
    tag: 'documents',
    summary: 'The user’s documents, newest first',
    auth: 'user',
    query: listDocumentsQuery,
    responses: { 200: '{ items, nextCursor }' },
  },
  {
    method: 'get',
    path: '/api/v1/documents/{id}',
    tag: 'documents',
    summary: 'One document with its status, progress, chunk count and error',
    auth: 'user',
    params: documentParams,
    responses: { 200: 'The document' },
  },
  {
    method: 'delete',
    path: '/api/v1/documents/{id}',
    tag: 'documents',
    summary: 'Delete a document and its chunks; stops its ingestion if running',
    auth: 'user',
    params: documentParams,
    responses: { 204: 'Deleted' },
  },
  {
    method: 'get',
    path: '/api/v1/search',
    tag: 'search',
    summary: 'Hybrid (meaning + words) search over the user’s own finished messages',
    auth: 'user',
    query: searchQuery,
    responses: {
      200: '{ query, mode, items: [{ messageId, conversationId, conversationTitle, role, snippet, createdAt, score }] }',
    },
  },

  {
    method: 'get',
    path: '/api/v1/prompt-suggestions',
    tag: 'conversations',
    summary: 'What an empty conversation offers to send (runtime setting `promptSuggestions`)',
    auth: 'user',
    responses: { 200: '{ suggestions: string[] }' },
  },
  {
    method: 'get',
    path: '/api/v1/models',
    tag: 'conversations',
    summary: 'The models a conversation may use, with their capabilities',
    description:
      'Each `{ id, name, provider, contextTokens, supportsTools, isDefault }`. `id` is what a conversation’s `model` takes: a built-in Groq model’s own id (`llama-3.1-8b-instant`), or `provider:modelId` for a provider an admin configured. Without GROQ_API_KEY the built-in entry is `offline` (no tools).',
    auth: 'user',
    responses: { 200: '{ items }' },
  },

  {
    method: 'get',
    path: '/api/v1/ws/users/{userId}/status',
    tag: 'presence',
    summary: 'Connections of a user across all edge nodes (self or admin)',
    auth: 'user',
    params: presenceParams,
    responses: { 200: '{ userId, online, connections }' },
    errors: { 404: 'Another user’s status, asked by someone who is not an administrator' },
  },

  {
    method: 'get',
    path: '/api/v1/admin/users',
    tag: 'admin',
    summary: 'Users, newest first, searchable',
    auth: 'admin',
    query: listUsersQuery,
    responses: { 200: '{ items, nextCursor }' },
  },
  {
    method: 'patch',
    path: '/api/v1/admin/users/{id}',
    tag: 'admin',
    summary: 'Rename, change role, disable or enable',
    auth: 'admin',
    params: userIdParams,
    body: updateUserSchema,
    example: { name: 'Ada Lovelace' },
    responses: { 200: 'The user' },
    errors: { 409: 'Administrators cannot disable or demote their own account' },
  },
  {
    method: 'delete',
    path: '/api/v1/admin/users/{id}',
    tag: 'admin',
    summary: 'Delete a user and all their data',
    auth: 'admin',
    params: userIdParams,
    responses: { 204: 'Deleted' },
    errors: { 409: 'Administrators cannot delete their own account' },
  },
  {
    method: 'get',
    path: '/api/v1/admin/settings',
    tag: 'admin',
    summary: 'Runtime settings',
    auth: 'admin',
    responses: { 200: 'Settings with their current values' },
  },
  {
    method: 'put',
    path: '/api/v1/admin/settings/{key}',
    tag: 'admin',
    summary: 'Change one runtime setting (validated by its own rules)',
    auth: 'admin',
    params: settingParams,
    body: settingBody,
    paramExamples: { key: 'temperature' },
    example: { value: 0.7 },
    responses: { 200: 'All settings' },
    errors: { 404: 'No such setting' },
  },
  {
    method: 'get',
    path: '/api/v1/admin/providers',
    tag: 'admin',
    summary: 'Configured model providers (never their API keys)',
    auth: 'admin',
    responses: {
      200: '{ items, builtIn }: providers with `hasApiKey`, their models and fallbacks (each model’s `danglingFallbacks`: its fallbacks that name no model of `GET /api/v1/models` any more, skipped by answers); `builtIn` is the environment’s Groq provider (or `offline`), read-only',
    },
  },
  {
    method: 'post',
    path: '/api/v1/admin/providers',
    tag: 'admin',
    summary: 'Add an OpenAI-compatible or WebSocket provider and its models',
    description:
      'The `apiKey` is write-only: stored encrypted, never returned (answers say `hasApiKey`). Its models become `name:modelId` in `GET /api/v1/models`; `fallbacks` name such ids, tried in order when a model fails before its first token (429, 5xx, timeout, connection). `kind: "websocket"`: a custom service speaking Parley’s WebSocket protocol (see docs/api.md); its `baseUrl` is ws:// or wss://, its models take no tools (`supportsTools: true` is refused with 400), and `fieldMap` renames the answer’s fields (`response`, `delta`, `tokens_used`, `model`, `finish_reason`) to the server’s names.',
    auth: 'admin',
    body: createProviderSchema,
    example: {
      name: 'ollama',
      baseUrl: 'http://127.0.0.1:11434/v1',
      models: [{ id: 'llama3.1:8b', name: 'Llama 3.1 8B (local)', contextTokens: 8192, tokenizer: 'llama3' }],
    },
    responses: { 201: 'The provider' },
    errors: {
      409: 'A provider with this name exists already',
      422: 'A model’s `fallbacks` names an id that is not one of `GET /api/v1/models` (this provider’s own enabled models included): `unknown_model`, each one in `errors`',
    },
  },
  {
    method: 'get',
    path: '/api/v1/admin/providers/{id}',
    tag: 'admin',
    summary: 'One configured provider',
    auth: 'admin',
    params: providerParams,
    responses: { 200: 'The provider' },
  },
  {
    method: 'patch',
    path: '/api/v1/admin/providers/{id}',
    tag: 'admin',
    summary: 'Change a provider: name, URL, timeout, field map, models (the whole list), or replace its key',
    description:
      '`apiKey` replaces the key; `apiKey: null` removes it. Running workers pick the change up at once.',
    auth: 'admin',
    params: providerParams,
    body: updateProviderSchema,
    example: { timeoutMs: 30000 },
    responses: { 200: 'The provider' },
    errors: {
      409: 'A provider with this name exists already',
      422: 'A fallback that the new `models` add names an id that is not one of `GET /api/v1/models` as it will be after the change: `unknown_model`, each one in `errors` (fallbacks a model had already are kept, dangling or not)',
    },
  },
  {
    method: 'delete',
    path: '/api/v1/admin/providers/{id}',
    tag: 'admin',
    summary: 'Remove a provider; conversations on its models answer with the default model',
    auth: 'admin',
    params: providerParams,
    responses: { 204: 'Deleted' },
  },
  {
    method: 'get',
    path: '/api/v1/admin/maintenance',
    tag: 'admin',
    summary: 'The last maintenance run',
    auth: 'admin',
    responses: { 200: '{ lastRun }' },
  },
  {
    method: 'post',
    path: '/api/v1/admin/maintenance/run',
    tag: 'admin',
    summary: 'Start a maintenance run now',
    auth: 'admin',
    responses: { 202: '{ jobId }' },
  },
  ...MCP_SERVER_OPERATIONS,
];
