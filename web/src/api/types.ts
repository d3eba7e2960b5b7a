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

export interface Citation {
  n: number;
  documentId: string;
  chunkId: string;
  filename: string;
  page?: number | null;
  snippet: string;
  score: number;
}

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

/** Socket events (mirrors src/relay/events.ts; the web build does not import server code). */
export interface AckError {
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

export interface ChatSendResult {
  conversationId: string;
  userMessageId: string;
  assistantMessageId: string;
}

export interface ChatStarted {
  conversationId: string;
  messageId: string;
}

export interface ChatToken {
  conversationId: string;
  messageId: string;
  seq: number;
  delta: string;
}

export interface ChatDone {
  conversationId: string;
  messageId: string;
  status: 'complete' | 'cancelled';
  content: string;
  usage: Usage;
  citations: Citation[];
  model: string | null;
  ttftMs: number | null;
  latencyMs: number | null;
}

export interface ChatErrorEvent {
  conversationId: string;
  messageId: string;
  code: string;
  message: string;
  retryable: boolean;
}

export interface ConversationUpdated {
  conversationId: string;
  title: string | null;
}

export interface DocumentProgress {
  documentId: string;
  status: DocumentStatus;
  progress: number;
  chunkCount?: number;
  error?: string;
}
