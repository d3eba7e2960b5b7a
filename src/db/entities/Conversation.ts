import { defineEntity, p } from '@mikro-orm/core';
import { createdAtColumn, idColumn, updatedAtColumn } from '../columns.ts';
import { Document } from './Document.ts';
import { User } from './User.ts';

export const CONVERSATION_MODES = ['chat', 'grounded'] as const;
export type ConversationMode = (typeof CONVERSATION_MODES)[number];

export const ConversationSchema = defineEntity({
  name: 'Conversation',
  tableName: 'conversations',
  properties: {
    id: idColumn(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    title: p.string().length(200).nullable(),
    mode: p.enum(CONVERSATION_MODES).default('chat'),
    /** The model ref (GET /models) answers use; null: the admin's default at answer time. */
    model: p.string().length(200).nullable(),
    /** Rolling summary of the turns that no longer fit the context window. */
    summary: p.text().nullable(),
    /** Whether answers may call tools (when the model supports them; grounded mode: read_document_page only). */
    tools: p.boolean().default(true),
    /** The newest message the summary covers; later turns go to the model verbatim. */
    summaryThroughId: p.uuid().nullable(),
    documents: () => p.manyToMany(Document).owner().pivotTable('conversation_documents'),
    createdAt: createdAtColumn(),
    updatedAt: updatedAtColumn(),
    lastMessageAt: createdAtColumn(),
  },
  indexes: [{ name: 'conversations_user_last_message_idx', properties: ['user', 'lastMessageAt'] }],
});

export class Conversation extends ConversationSchema.class {}
ConversationSchema.setClass(Conversation);
