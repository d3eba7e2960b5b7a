import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { Conversation } from '../../src/db/entities/Conversation.ts';
import { Document } from '../../src/db/entities/Document.ts';
import { DocumentChunk } from '../../src/db/entities/DocumentChunk.ts';
import { Message, type MessageStatus } from '../../src/db/entities/Message.ts';
import { User } from '../../src/db/entities/User.ts';

/**
 * Test data straight into the database, for tests of domain code and tasks that need no HTTP:
 * each factory flushes and returns managed entities, with unique values where the schema wants them.
 */

const unique = () => randomBytes(4).toString('hex');

export async function createUser(em: EntityManager, overrides: Partial<User> = {}): Promise<User> {
  const user = em.create(User, { email: `user-${unique()}@example.com`, passwordHash: 'x', ...overrides });
  await em.flush();
  return user;
}

export interface ConversationWithTurns {
  conversation: Conversation;
  /** The user turns and their answers, in order. */
  messages: Message[];
  /** The last assistant message: `pending` unless `lastAnswer` says otherwise. */
  answer: Message;
}

/**
 * A conversation whose earlier turns are answered (`complete`) and whose last turn waits for its
 * answer (`pending`, or the status given): what a reply job finds when it starts.
 */
export async function createConversation(
  em: EntityManager,
  user: User,
  options: {
    turns?: string[];
    answers?: string[];
    lastAnswer?: MessageStatus;
    title?: string | null;
    mode?: Conversation['mode'];
  } = {},
): Promise<ConversationWithTurns> {
  const turns = options.turns ?? ['Hello?'];
  const conversation = em.create(Conversation, {
    user,
    title: options.title === undefined ? 'a conversation' : options.title,
    ...(options.mode ? { mode: options.mode } : {}),
  });
  const messages: Message[] = [];
  let answer!: Message;
  turns.forEach((content, index) => {
    const question = em.create(Message, { conversation, user, role: 'user', content });
    const last = index === turns.length - 1;
    answer = em.create(Message, {
      conversation,
      user,
      role: 'assistant',
      replyTo: question.id,
      status: last ? (options.lastAnswer ?? 'pending') : 'complete',
      content: last ? '' : (options.answers?.[index] ?? `answer ${index + 1}`),
    });
    messages.push(question, answer);
  });
  await em.flush();
  return { conversation, messages, answer };
}

/** A unit vector along one axis of the schema's 384 dimensions. */
export const axisVector = (axis: number) => Array.from({ length: 384 }, (_, i) => (i === axis % 384 ? 1 : 0));

/** A document of `user` in `status`, with one chunk per text (vectors from `embed`, else one axis each). */
export async function createDocument(
  em: EntityManager,
  user: User,
  options: {
    status?: Document['status'];
    filename?: string;
    chunks?: string[];
    embed?: (text: string) => number[];
  } = {},
): Promise<Document> {
  const document = em.create(Document, {
    user,
    filename: options.filename ?? `notes-${unique()}.txt`,
    mime: 'text/plain',
    size: 1,
    sha256: randomBytes(32).toString('hex'),
    status: options.status ?? 'ready',
    chunkCount: options.chunks?.length ?? 0,
  });
  for (const [index, content] of (options.chunks ?? []).entries()) {
    em.create(DocumentChunk, {
      document,
      user,
      ordinal: index,
      content,
      tokenCount: content.split(/\s+/).length,
      embedding: options.embed ? options.embed(content) : axisVector(index),
    });
  }
  await em.flush();
  return document;
}
