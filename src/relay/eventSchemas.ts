import { z } from 'zod';
import { citationSchema } from '../db/citation.ts';
import {
  clientMessageId,
  conversationMode,
  conversationTools,
  documentIds,
  messageContent,
  modelRef,
} from '../validation/messageFields.ts';

/**
 * The payloads of the Socket.IO events, as zod schemas, so each payload's shape has one source:
 * src/relay/events.ts infers its types from these, and test/unit/realtimeDocs.test.ts checks that
 * docs/realtime.md lists exactly their fields. Client → server payloads are parsed with these
 * (src/realtime/); server → client payloads are built by our own code and not parsed at run time.
 * The fields a chat turn shares with the REST routes come from src/validation/messageFields.ts.
 */

/** `chat:send`: a message for a conversation, or (without `conversationId`) for a new one. */
export const chatSendSchema = z
  .object({
    conversationId: z.uuid().optional(),
    content: messageContent,
    clientMessageId: clientMessageId.optional(),
    mode: conversationMode.optional(),
    documentIds: documentIds.optional(),
    /** The new conversation's model; ignored with a conversationId. */
    model: modelRef.optional(),
    tools: conversationTools.optional(),
  })
  .strict();

export const chatCancelSchema = z.object({ messageId: z.uuid() }).strict();

export const chatResumeSchema = z.object({ messageId: z.uuid(), afterSeq: z.number().int().min(0) }).strict();

/** `system:ping`'s nonce is echoed back, never stored, so it needs no storable-text rule. */
export const systemPingSchema = z.object({ nonce: z.string().min(1).max(100) }).strict();

/** Each client → server event's payload schema, by event name (what the edge parses it with). */
export const clientEventSchemas = {
  'system:ping': systemPingSchema,
  'chat:send': chatSendSchema,
  'chat:cancel': chatCancelSchema,
  'chat:resume': chatResumeSchema,
} as const;

/** What each client → server event's ack answers with when it succeeds (its `result`). */
export const chatSendResultSchema = z.object({
  conversationId: z.string(),
  userMessageId: z.string(),
  assistantMessageId: z.string(),
});
export const chatCancelResultSchema = z.object({ ok: z.literal(true) });
export const chatResumeResultSchema = z.object({ ok: z.literal(true), replayed: z.number() });
export const systemPingResultSchema = z.object({ jobId: z.string() });

export const clientEventResultSchemas = {
  'system:ping': systemPingResultSchema,
  'chat:send': chatSendResultSchema,
  'chat:cancel': chatCancelResultSchema,
  'chat:resume': chatResumeResultSchema,
} as const;

export const probeReplySchema = z.object({
  nonce: z.string(),
  /** Process id of the worker that ran the job: proves the answer crossed processes. */
  workerPid: z.number(),
  enqueuedAt: z.string(),
  processedAt: z.string(),
});

export const chatStartedSchema = z.object({ conversationId: z.string(), messageId: z.string() });

export const chatTokenSchema = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  /** 1, 2, 3… per message, no gaps; one delta may carry several model tokens. */
  seq: z.number(),
  delta: z.string(),
});

export const TOOL_CALL_STATUSES = ['running', 'complete', 'error'] as const;

/**
 * A tool the model called while answering: `running` when it starts, then `complete` or `error`
 * with a short summary. Takes a `seq` of the answer's one gap-free sequence (shared with
 * chat:token), so a replay delivers tool activity and text in the order they happened.
 */
export const chatToolSchema = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  seq: z.number(),
  /** The model's id for this call: the running and the ending event of one call share it. */
  callId: z.string(),
  name: z.string(),
  /** The arguments as the model wrote them (JSON text, capped in length). */
  arguments: z.string(),
  status: z.enum(TOOL_CALL_STATUSES),
  /** One line about the result (or the error), when the call ended. */
  summary: z.string().optional(),
  durationMs: z.number().optional(),
});

export const chatDoneSchema = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  status: z.enum(['complete', 'cancelled']),
  content: z.string(),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number() }),
  citations: z.array(citationSchema),
  model: z.string().nullable(),
  ttftMs: z.number().nullable(),
  latencyMs: z.number().nullable(),
});

export const chatErrorSchema = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
});

export const conversationUpdatedSchema = z.object({
  conversationId: z.string(),
  title: z.string().nullable(),
});

export const documentProgressSchema = z.object({
  documentId: z.string(),
  status: z.enum(['queued', 'processing', 'ready', 'failed']),
  /** 0..1: share of the document's chunks embedded and stored. */
  progress: z.number(),
  chunkCount: z.number().optional(),
  /** Why the document failed, in words for the user. */
  error: z.string().optional(),
});

/** Each server → client event's payload schema, by event name (ServerToClientEvents lists the same). */
export const serverEventSchemas = {
  'system:pong': probeReplySchema,
  'chat:started': chatStartedSchema,
  'chat:token': chatTokenSchema,
  'chat:tool': chatToolSchema,
  'chat:done': chatDoneSchema,
  'chat:error': chatErrorSchema,
  'conversation:updated': conversationUpdatedSchema,
  'document:progress': documentProgressSchema,
} as const;
