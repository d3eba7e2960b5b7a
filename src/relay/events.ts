import type { Citation } from '../db/citation.ts';

/**
 * The Socket.IO contract, typed once for the edge server, the worker-side emitter and clients.
 * Every client → server event takes an ack `(error, result)`.
 */

export interface AckError {
  code: string;
  message: string;
  /** With `rate_limited` and `unavailable`: seconds to wait before trying again. */
  retryAfterSeconds?: number;
}

export type Ack<Result> = (error: AckError | null, result?: Result) => void;

export interface ProbeReply {
  nonce: string;
  /** Process id of the worker that ran the job: proves the answer crossed processes. */
  workerPid: number;
  enqueuedAt: string;
  processedAt: string;
}

export interface ChatSendPayload {
  conversationId?: string;
  content: string;
  clientMessageId?: string;
  mode?: 'chat' | 'grounded';
  documentIds?: string[];
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
  /** 1, 2, 3… per message, no gaps; one delta may carry several model tokens. */
  seq: number;
  delta: string;
}

/** Where a grounded answer's passage [n] came from (stored with the message). */
export type ChatCitation = Citation;

export interface ChatDone {
  conversationId: string;
  messageId: string;
  status: 'complete' | 'cancelled';
  content: string;
  usage: { promptTokens: number; completionTokens: number };
  citations: ChatCitation[];
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
  status: 'queued' | 'processing' | 'ready' | 'failed';
  /** 0..1: share of the document's chunks embedded and stored. */
  progress: number;
  chunkCount?: number;
  /** Why the document failed, in words for the user. */
  error?: string;
}

export interface ClientToServerEvents {
  /** Round trip through a queue and a worker, answered with `system:pong`. */
  'system:ping': (payload: { nonce: string }, ack: Ack<{ jobId: string }>) => void;
  'chat:send': (payload: ChatSendPayload, ack: Ack<ChatSendResult>) => void;
  'chat:cancel': (payload: { messageId: string }, ack: Ack<{ ok: true }>) => void;
  /** Replays every chat:token with seq > afterSeq to this socket, then the live tail follows. */
  'chat:resume': (
    payload: { messageId: string; afterSeq: number },
    ack: Ack<{ ok: true; replayed: number }>,
  ) => void;
}

export interface ServerToClientEvents {
  'system:pong': (payload: ProbeReply) => void;
  'chat:started': (payload: ChatStarted) => void;
  'chat:token': (payload: ChatToken) => void;
  'chat:done': (payload: ChatDone) => void;
  'chat:error': (payload: ChatErrorEvent) => void;
  'conversation:updated': (payload: ConversationUpdated) => void;
  'document:progress': (payload: DocumentProgress) => void;
}

/** The events that make up one answer's stream, as stored for replay. */
export type StreamEvent =
  | { event: 'chat:started'; data: ChatStarted }
  | { event: 'chat:token'; data: ChatToken }
  | { event: 'chat:done'; data: ChatDone }
  | { event: 'chat:error'; data: ChatErrorEvent };

/** What the edge knows about an authenticated socket. */
export interface SocketData {
  userId: string;
}

/** The room each socket joins for its user once accounts exist; workers emit here. */
export const userRoom = (userId: string) => `user:${userId}`;
