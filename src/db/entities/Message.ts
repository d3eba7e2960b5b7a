import { defineEntity, p } from '@mikro-orm/core';
import type { Citation } from '../citation.ts';
import {
  createdAtColumn,
  embeddingColumn,
  ginSearchIndex,
  hnswCosineIndex,
  idColumn,
  searchVectorColumn,
  updatedAtColumn,
} from '../columns.ts';
import type { ToolCallRecord } from '../toolCall.ts';
import { Conversation } from './Conversation.ts';
import { User } from './User.ts';

export const MESSAGE_ROLES = ['user', 'assistant', 'system'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];
export const MESSAGE_STATUSES = ['pending', 'streaming', 'complete', 'failed', 'cancelled'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export const TERMINAL_MESSAGE_STATUSES: readonly MessageStatus[] = ['complete', 'failed', 'cancelled'];

export type { Citation, ToolCallRecord };

export const MessageSchema = defineEntity({
  name: 'Message',
  tableName: 'messages',
  properties: {
    id: idColumn(),
    conversation: () => p.manyToOne(Conversation).deleteRule('cascade'),
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    /** For an assistant message: the user turn it answers (regenerate adds siblings). */
    replyTo: p.uuid().nullable().index(),
    role: p.enum(MESSAGE_ROLES),
    content: p.text().default(''),
    /** Tokens of `content` (src/llm/tokenCount.ts countTokens), set when it is written; null on older rows. */
    tokenCount: p.integer().nullable(),
    status: p.enum(MESSAGE_STATUSES).default('complete'),
    clientMessageId: p.string().length(100).nullable(),
    model: p.string().length(200).nullable(),
    promptTokens: p.integer().nullable(),
    completionTokens: p.integer().nullable(),
    ttftMs: p.integer().nullable(),
    latencyMs: p.integer().nullable(),
    error: p.text().nullable(),
    citations: p.json<Citation[]>().nullable(),
    /** The tools the answer called (name, arguments, status, summary); null when it called none. */
    toolCalls: p.json<ToolCallRecord[]>().nullable(),
    embedding: embeddingColumn().nullable().lazy().hidden(),
    searchVector: searchVectorColumn('content'),
    createdAt: createdAtColumn(),
    updatedAt: updatedAtColumn(),
  },
  uniques: [{ name: 'messages_user_client_message_unique', properties: ['user', 'clientMessageId'] }],
  indexes: [
    { name: 'messages_conversation_id_idx', properties: ['conversation', 'id'] },
    { name: 'messages_status_idx', properties: ['status'] },
    hnswCosineIndex('messages', 'messages_embedding_hnsw'),
    ginSearchIndex('messages', 'messages_search_gin'),
  ],
});

export class Message extends MessageSchema.class {}
MessageSchema.setClass(Message);
