import type { z } from 'zod';
import type { Citation } from '../db/citation.ts';
import type {
  chatCancelResultSchema,
  chatCancelSchema,
  chatDoneSchema,
  chatErrorSchema,
  chatResumeResultSchema,
  chatResumeSchema,
  chatSendResultSchema,
  chatSendSchema,
  chatStartedSchema,
  chatTokenSchema,
  chatToolSchema,
  conversationUpdatedSchema,
  documentProgressSchema,
  probeReplySchema,
  systemPingResultSchema,
  systemPingSchema,
} from './eventSchemas.ts';

/**
 * The Socket.IO contract, typed once for the edge server, the worker-side emitter and clients.
 * Every client → server event takes an ack `(error, result)`. The payload types are inferred from
 * the zod schemas of ./eventSchemas.ts (the ones the edge parses client payloads with, and those
 * of what the server sends), so a field exists in one place.
 */

export interface AckError {
  code: string;
  message: string;
  /** With `rate_limited` and `unavailable`: seconds to wait before trying again. */
  retryAfterSeconds?: number;
}

export type Ack<Result> = (error: AckError | null, result?: Result) => void;

export type ProbeReply = z.infer<typeof probeReplySchema>;

/** What `chat:send` accepts: the schema the edge validates it with. */
export type ChatSendPayload = z.infer<typeof chatSendSchema>;
export type ChatCancelPayload = z.infer<typeof chatCancelSchema>;
export type ChatResumePayload = z.infer<typeof chatResumeSchema>;
export type SystemPingPayload = z.infer<typeof systemPingSchema>;

export type ChatSendResult = z.infer<typeof chatSendResultSchema>;

export type ChatStarted = z.infer<typeof chatStartedSchema>;
export type ChatToken = z.infer<typeof chatTokenSchema>;

/** Where a grounded answer's passage [n] came from (stored with the message). */
export type ChatCitation = Citation;

export type ChatDone = z.infer<typeof chatDoneSchema>;
export type ChatErrorEvent = z.infer<typeof chatErrorSchema>;
/** A tool call's event; see chatToolSchema in eventSchemas.ts. */
export type ChatTool = z.infer<typeof chatToolSchema>;
export type ToolCallStatus = ChatTool['status'];
export type ConversationUpdated = z.infer<typeof conversationUpdatedSchema>;
export type DocumentProgress = z.infer<typeof documentProgressSchema>;

export interface ClientToServerEvents {
  /** Round trip through a queue and a worker, answered with `system:pong`. */
  'system:ping': (payload: SystemPingPayload, ack: Ack<z.infer<typeof systemPingResultSchema>>) => void;
  'chat:send': (payload: ChatSendPayload, ack: Ack<ChatSendResult>) => void;
  'chat:cancel': (payload: ChatCancelPayload, ack: Ack<z.infer<typeof chatCancelResultSchema>>) => void;
  /** Replays every chat:token and chat:tool with seq > afterSeq to this socket, then the live tail follows. */
  'chat:resume': (payload: ChatResumePayload, ack: Ack<z.infer<typeof chatResumeResultSchema>>) => void;
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

/** The room every authenticated socket joins for its user; workers emit here. */
export const userRoom = (userId: string) => `user:${userId}`;
