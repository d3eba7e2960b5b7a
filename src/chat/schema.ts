import { z } from 'zod';
import { CONVERSATION_MODES } from '../db/entities/Conversation.ts';
import { text } from '../validation/text.ts';

/** Input shapes shared by the REST routes and the Socket.IO events. */

export const MAX_MESSAGE_CHARS = 32_000;

export const messageContent = text().trim().min(1, 'must not be empty').max(MAX_MESSAGE_CHARS);
export const clientMessageId = text().min(1).max(100);
export const documentIds = z.array(z.uuid()).max(50);
/** A model of GET /api/v1/models (its `id`); whether it is one is checked by ModelChoice. */
export const modelRef = text().trim().min(1).max(200);
/** Whether the conversation's answers may call tools (when its model supports them). */
export const conversationTools = z.boolean();

export const sendMessageSchema = z
  .object({ content: messageContent, clientMessageId: clientMessageId.optional() })
  .strict();

export const chatSendSchema = z
  .object({
    conversationId: z.uuid().optional(),
    content: messageContent,
    clientMessageId: clientMessageId.optional(),
    mode: z.enum(CONVERSATION_MODES).optional(),
    documentIds: documentIds.optional(),
    /** The new conversation's model; ignored with a conversationId. */
    model: modelRef.optional(),
    tools: conversationTools.optional(),
  })
  .strict();

export const chatCancelSchema = z.object({ messageId: z.uuid() }).strict();

export const chatResumeSchema = z.object({ messageId: z.uuid(), afterSeq: z.number().int().min(0) }).strict();
