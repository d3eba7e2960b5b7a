/** The server's JSON shapes the client reads (see src/presenters and docs/realtime.md). */

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: 'user' | 'admin';
  emailVerified: boolean;
  disabled: boolean;
  createdAt: string;
}

export interface SessionGrant {
  user: User;
  accessToken: string;
  expiresIn: number;
}

export type ConversationMode = 'chat' | 'grounded';

export interface Conversation {
  id: string;
  title: string | null;
  mode: ConversationMode;
  createdAt: string;
  updatedAt: string;
  lastMessageAt: string;
  documents?: { id: string; filename: string; status: string }[];
}

export type MessageStatus = 'pending' | 'streaming' | 'complete' | 'failed' | 'cancelled';

import type { Citation } from '../../../src/db/citation.ts';

export type { Citation };

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface Message {
  id: string;
  conversationId: string;
  role: 'user' | 'assistant' | 'system';
  content: string;
  status: MessageStatus;
  replyTo: string | null;
  clientMessageId: string | null;
  model: string | null;
  usage: Usage | null;
  ttftMs: number | null;
  latencyMs: number | null;
  error: string | null;
  citations: Citation[];
  createdAt: string;
}

export type DocumentStatus = 'queued' | 'processing' | 'ready' | 'failed';

export interface DocumentInfo {
  id: string;
  filename: string;
  mime: string;
  size: number;
  status: DocumentStatus;
  progress: number;
  chunkCount: number;
  pageCount: number | null;
  error: string | null;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface SearchHit {
  messageId: string;
  conversationId: string;
  conversationTitle: string | null;
  role: 'user' | 'assistant';
  snippet: string;
  createdAt: string;
  score: number;
}

export interface RuntimeSettings {
  model: string;
  temperature: number;
  maxTokens: number;
  retentionDays: number;
  topK: number;
  promptSuggestions?: string[];
}

export interface MaintenanceReport {
  trigger: 'schedule' | 'admin';
  startedAt: string;
  finishedAt: string;
  retentionDays: number;
  counts: Record<string, number>;
}

/**
 * Socket events: the server's own contract, imported as types only (erased from the bundle), so
 * the page and the server cannot drift apart.
 */
export type {
  AckError,
  ChatDone,
  ChatErrorEvent,
  ChatSendResult,
  ChatStarted,
  ChatToken,
  ClientToServerEvents,
  ConversationUpdated,
  DocumentProgress,
  ServerToClientEvents,
} from '../../../src/relay/events.ts';
