import { z } from 'zod';
import { CONVERSATION_MODES } from '../db/entities/Conversation.ts';
import { MAX_MESSAGE_CHARS } from './messageLimit.ts';
import { text } from './text.ts';

/**
 * The fields of a chat turn's input, shared by the REST routes (src/chat/schema.ts,
 * src/http/routes/) and the Socket.IO events (src/relay/eventSchemas.ts). Why here: both the chat
 * module and the relay contract build on them, and the relay may not import the chat module (the
 * chat module imports the relay), so the shared rules sit below both.
 */

export { MAX_MESSAGE_CHARS };

export const messageContent = text()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_MESSAGE_CHARS, `must be at most ${MAX_MESSAGE_CHARS} characters`);
export const clientMessageId = text().min(1).max(100);
export const documentIds = z.array(z.uuid()).max(50);
/** A model of GET /api/v1/models (its `id`); whether it is one is checked by ModelChoice. */
export const modelRef = text().trim().min(1).max(200);
/** Whether the conversation's answers may call tools (when its model supports them). */
export const conversationTools = z.boolean();
/** A conversation's mode: `chat`, or `grounded` (answers only from the user's documents). */
export const conversationMode = z.enum(CONVERSATION_MODES);
