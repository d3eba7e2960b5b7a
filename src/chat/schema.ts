import { z } from 'zod';
import { clientMessageId, messageContent } from '../validation/messageFields.ts';

/**
 * Input shapes of a chat turn. The fields are shared with the Socket.IO events and live in
 * src/validation/messageFields.ts; the events' own schemas (chat:send, chat:cancel, chat:resume)
 * are the relay contract's, src/relay/eventSchemas.ts. Both are re-exported here, so the edge's
 * chat code has one place to import its input shapes from.
 */

export { chatCancelSchema, chatResumeSchema, chatSendSchema } from '../relay/eventSchemas.ts';
export {
  clientMessageId,
  conversationTools,
  documentIds,
  MAX_MESSAGE_CHARS,
  messageContent,
  modelRef,
} from '../validation/messageFields.ts';

export const sendMessageSchema = z
  .object({ content: messageContent, clientMessageId: clientMessageId.optional() })
  .strict();
