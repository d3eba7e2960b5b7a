import { z } from 'zod';
import { sendMessageSchema } from '../../chat/schema.ts';
import { SETTING_SCHEMAS } from '../../settings/RuntimeSettings.ts';
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
import { messageParams, streamQuery } from '../routes/messages/schema.ts';
import { presenceParams } from '../routes/presence.ts';
import { searchQuery } from '../routes/search/schema.ts';

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
  auth?: 'user' | 'admin' | 'metrics';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The body's media type (default application/json). */
  consumes?: 'application/json' | 'multipart/form-data';
  /** Status → description of the answers that are not errors. */
  responses: Record<number, string>;
  produces?: string;
}

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
    body: signupSchema,
    responses: { 201: '{ user, accessToken, refreshToken, expiresIn }' },
  },
  {
    method: 'post',
    path: '/api/v1/auth/login',
    tag: 'auth',
    summary: 'Sign in',
    body: loginSchema,
    responses: { 200: '{ user, accessToken, refreshToken, expiresIn }' },
  },
  {
    method: 'post',
    path: '/api/v1/auth/refresh',
    tag: 'auth',
    summary: 'Trade a refresh token for a new pair (rotation; reuse revokes the family)',
    body: refreshSchema,
    responses: { 200: 'A new pair' },
  },
  {
    method: 'post',
    path: '/api/v1/auth/logout',
    tag: 'auth',
    summary: 'Revoke a refresh token',
    body: logoutSchema,
    responses: { 204: 'Revoked' },
  },
  {
    method: 'get',
    path: '/api/v1/auth/verify',
    tag: 'auth',
    summary: 'Mark the email address verified',
    query: verifyQuerySchema,
    responses: { 200: '{ verified, user }' },
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
    body: createConversationSchema,
    responses: { 201: 'The conversation' },
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
    summary: 'Rename, change mode or documents',
    auth: 'user',
    params: conversationParams,
    body: updateConversationSchema,
    responses: { 200: 'The conversation' },
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
    responses: { 202: '{ userMessage, assistantMessage }' },
  },

  {
    method: 'post',
    path: '/api/v1/messages/{id}/cancel',
    tag: 'messages',
    summary: 'Stop an answer, keeping its partial text',
    auth: 'user',
    params: messageParams,
    responses: { 202: 'The message' },
  },
  {
    method: 'post',
    path: '/api/v1/messages/{id}/regenerate',
    tag: 'messages',
    summary: 'A new answer for the same turn',
    auth: 'user',
    params: messageParams,
    responses: { 202: '{ assistantMessage }' },
  },
  {
    method: 'get',
    path: '/api/v1/messages/{id}/stream',
    tag: 'messages',
    summary: 'The answer’s events as Server-Sent Events (replay after afterSeq, then live)',
    auth: 'user',
    params: messageParams,
    query: streamQuery,
    responses: { 200: 'text/event-stream' },
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
    path: '/api/v1/ws/users/{userId}/status',
    tag: 'presence',
    summary: 'Connections of a user across all edge nodes (self or admin)',
    auth: 'user',
    params: presenceParams,
    responses: { 200: '{ userId, online, connections }' },
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
    responses: { 200: 'The user' },
  },
  {
    method: 'delete',
    path: '/api/v1/admin/users/{id}',
    tag: 'admin',
    summary: 'Delete a user and all their data',
    auth: 'admin',
    params: userIdParams,
    responses: { 204: 'Deleted' },
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
    responses: { 200: 'All settings' },
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
];
