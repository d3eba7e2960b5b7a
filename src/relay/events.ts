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
  /** For a new conversation: whether its answers may call tools (default true). */
  tools?: boolean;
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

/**
 * A tool the model called while answering: `running` when it starts, then `complete` or `error`
 * with a short summary. Takes a `seq` of the answer's one gap-free sequence (shared with
 * chat:token), so a replay delivers tool activity and text in the order they happened.
 */
export interface ChatTool {
  conversationId: string;
  messageId: string;
  seq: number;
  /** The model's id for this call: the running and the ending event of one call share it. */
  callId: string;
  name: string;
  /** The arguments as the model wrote them (JSON text, capped in length). */
  arguments: string;
  status: ToolCallStatus;
  /** One line about the result (or the error), when the call ended. */
  summary?: string;
  durationMs?: number;
}

export type ToolCallStatus = 'running' | 'complete' | 'error';

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
  /** Replays every chat:token and chat:tool with seq > afterSeq to this socket, then the live tail follows. */
  'chat:resume': (
    payload: { messageId: string; afterSeq: number },
    ack: Ack<{ ok: true; replayed: number }>,
  ) => void;
}

export interface ServerToClientEvents {
  'system:pong': (payload: ProbeReply) => void;
  'chat:started': (payload: ChatStarted) => void;
  'chat:token': (payload: ChatToken) => void;
  'chat:tool': (payload: ChatTool) => void;
  'chat:done': (payload: ChatDone) => void;
  'chat:error': (payload: ChatErrorEvent) => void;
  'conversation:updated': (payload: ConversationUpdated) => void;
  'document:progress': (payload: DocumentProgress) => void;
}

/** The events that make up one answer's stream, as stored for replay. */
export type StreamEvent =
  | { event: 'chat:started'; data: ChatStarted }
  | { event: 'chat:token'; data: ChatToken }
  | { event: 'chat:tool'; data: ChatTool }
  | { event: 'chat:done'; data: ChatDone }
  | { event: 'chat:error'; data: ChatErrorEvent };

/** What the edge knows about an authenticated socket. */
export interface SocketData {
  userId: string;
}

/** The room each socket joins for its user once accounts exist; workers emit here. */
export const userRoom = (userId: string) => `user:${userId}`;
