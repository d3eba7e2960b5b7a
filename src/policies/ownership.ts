import type { EntityManager } from '@mikro-orm/core';
import { Conversation } from '../db/entities/Conversation.ts';
import { Document } from '../db/entities/Document.ts';
import { Message } from '../db/entities/Message.ts';
import type { User } from '../db/entities/User.ts';
import { notFound } from '../errors/AppError.ts';

/**
 * Isolation between users: every conversation, message and document belongs to one user, and
 * a lookup by id from a user's request always goes through here, so it can only reach that
 * user's rows. `own…` throws not_found (the same answer for "missing" and "someone else's", so
 * ids can't be probed); `findOwn…` returns null, for callers to whom a missing row is normal
 * (a job whose row was deleted meanwhile). The owner is a User or a user id (jobs carry ids).
 *
 * The other places isolation is enforced: lists and lookups that are not by id filter by
 * `user` in their own query (the list routes, ChatService's clientMessageId lookup and
 * cancelAllIn, DocumentLibrary's same-bytes check), conditional writes name the user in their
 * own `where` (ConversationTitler's title, ChunkStore's chunks, DocumentLifecycle's status), ReplyContext's raw
 * SQL names the user in its history window and in the token counts it stores, and the raw SQL of
 * search and retrieval (retrieval/hybridSearch.ts, used by HistorySearch and DocumentRetriever)
 * filters `user_id = ?` inside both legs of every search, and again when it loads the hits.
 */

export type Owner = User | string;

const ownerId = (owner: Owner) => (typeof owner === 'string' ? owner : owner.id);

export const findOwnConversation = (
  em: EntityManager,
  owner: Owner,
  id: string,
  options: { withDocuments?: boolean } = {},
) =>
  em.findOne(
    Conversation,
    { id, user: ownerId(owner) },
    options.withDocuments ? { populate: ['documents'] } : {},
  );

export async function ownConversation(
  em: EntityManager,
  owner: Owner,
  id: string,
  options: { withDocuments?: boolean } = {},
): Promise<Conversation> {
  const conversation = await findOwnConversation(em, owner, id, options);
  if (!conversation) throw notFound('conversation');
  return conversation;
}

/** Deletes the user's conversation (its messages cascade); false when there was none. */
export async function deleteOwnConversation(em: EntityManager, owner: Owner, id: string): Promise<boolean> {
  return (await em.nativeDelete(Conversation, { id, user: ownerId(owner) })) > 0;
}

/** Any message of the user's, either role. */
export const findOwnMessage = (em: EntityManager, owner: Owner, id: string) =>
  em.findOne(Message, { id, user: ownerId(owner) });

export async function ownMessage(em: EntityManager, owner: Owner, id: string): Promise<Message> {
  const message = await findOwnMessage(em, owner, id);
  if (!message) throw notFound('message');
  return message;
}

/** An answer of the user's: what cancel, regenerate, stream and resume act on. */
export const findOwnAssistantMessage = (
  em: EntityManager,
  owner: Owner,
  id: string,
  options: { withConversation?: boolean } = {},
) =>
  em.findOne(
    Message,
    { id, user: ownerId(owner), role: 'assistant' },
    options.withConversation ? { populate: ['conversation'] } : {},
  );

/**
 * What the reply task starts from: the user's answer with its conversation and the
 * conversation's documents (those were the user's own when attached), in one joined query.
 */
export const findOwnAnswerForReply = (em: EntityManager, owner: Owner, id: string) =>
  em.findOne(
    Message,
    { id, user: ownerId(owner), role: 'assistant' },
    { populate: ['conversation', 'conversation.documents'], strategy: 'joined' },
  );

export async function ownAssistantMessage(
  em: EntityManager,
  owner: Owner,
  id: string,
  options: { withConversation?: boolean } = {},
): Promise<Message> {
  const message = await findOwnAssistantMessage(em, owner, id, options);
  if (!message) throw notFound('message');
  return message;
}

export const findOwnDocument = (em: EntityManager, owner: Owner, id: string) =>
  em.findOne(Document, { id, user: ownerId(owner) });

export async function ownDocument(em: EntityManager, owner: Owner, id: string): Promise<Document> {
  const document = await findOwnDocument(em, owner, id);
  if (!document) throw notFound('document');
  return document;
}

/** The documents to attach to a conversation: all of them the user's (duplicates ignored), or not_found. */
export async function ownDocuments(em: EntityManager, owner: Owner, ids: string[]): Promise<Document[]> {
  const unique = [...new Set(ids)];
  const documents = await em.find(Document, { id: { $in: unique }, user: ownerId(owner) });
  if (documents.length !== unique.length) throw notFound('document');
  return documents;
}

/** Deletes the user's document (its file and chunks cascade); false when there was none. */
export async function deleteOwnDocument(em: EntityManager, owner: Owner, id: string): Promise<boolean> {
  return (await em.nativeDelete(Document, { id, user: ownerId(owner) })) > 0;
}
