import { z } from 'zod';
import { conversationTools, documentIds, modelRef } from '../../../chat/schema.ts';
import { CONVERSATION_MODES } from '../../../db/entities/Conversation.ts';
import { text } from '../../../validation/text.ts';
import { pageQuerySchema } from '../../pagination.ts';

export const conversationParams = z.object({ id: z.uuid() });

export const createConversationSchema = z
  .object({
    title: text().trim().min(1).max(200).optional(),
    mode: z.enum(CONVERSATION_MODES).optional(),
    documentIds: documentIds.optional(),
    /** A GET /models id; absent or null: the admin's default model at answer time. */
    model: modelRef.nullable().optional(),
    tools: conversationTools.optional(),
  })
  .strict();

export const updateConversationSchema = z
  .object({
    title: text().trim().min(1).max(200).nullable().optional(),
    mode: z.enum(CONVERSATION_MODES).optional(),
    documentIds: documentIds.optional(),
    model: modelRef.nullable().optional(),
    tools: conversationTools.optional(),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, {
    message: 'give at least one of title, mode, documentIds, model, tools',
  });

export const listConversationsQuery = z
  .object({
    limit: pageQuerySchema.shape.limit,
    cursor: text().max(200).optional(),
    q: text().trim().max(200).optional(),
  })
  .strict();

export const listMessagesQuery = pageQuerySchema.strict();
