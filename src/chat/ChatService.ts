import { type EntityClass, type EntityProperty, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { AnswerLifecycle } from '../answers/AnswerLifecycle.ts';
import { arrayLiteral } from '../db/arrayLiteral.ts';
import { Conversation, type ConversationMode } from '../db/entities/Conversation.ts';
import { Message, TERMINAL_MESSAGE_STATUSES } from '../db/entities/Message.ts';
import { User } from '../db/entities/User.ts';
import type { Orm } from '../db/orm.ts';
import { conflict, notFound, unauthorized, unavailable, unknownModel } from '../errors/AppError.ts';
import { countTokens } from '../llm/tokenCount.ts';
import type { Logger } from '../logger.ts';
import { type Owner, ownAssistantMessage, ownDocuments } from '../policies/ownership.ts';
import { CancelFlags } from '../queues/cancels.ts';
import { JobStopper } from '../queues/JobStopper.ts';
import { replyJobId } from '../queues/jobs.ts';
import type { Queues } from '../queues/Queues.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import type { StreamTarget, TokenPublisher } from '../relay/TokenPublisher.ts';
import type { ModelChoice } from './ModelChoice.ts';

export interface SendInput {
  conversationId?: string;
  content: string;
  clientMessageId?: string;
  mode?: ConversationMode;
  documentIds?: string[];
  /** A new conversation's model (a GET /models id); checked by ModelChoice. */
  model?: string;
  /** For a new conversation: whether its answers may call tools. */
  tools?: boolean;
}

export interface Turn {
  conversation: Conversation;
  userMessage: Message;
  assistantMessage: Message;
}

/**
 * The edge's side of chatting: it stores the user's turn and an empty (`pending`) answer,
 * commits, and only then enqueues the job that fills the answer. Slow work happens in workers.
 */
export class ChatService {
  private readonly orm: Orm;
  private readonly queues: Queues;
  private readonly redis: Redis;
  private readonly logger: Logger;
  /** Publishes the end of an answer that never reached a worker (cancelled while queued). */
  private readonly publisherFor: (target: StreamTarget) => TokenPublisher;
  private readonly ending: AnswerLifecycle;
  private readonly jobs: JobStopper;
  private readonly models: ModelChoice | null;

  constructor(deps: {
    orm: Orm;
    /** Checks a new conversation's model; without it, a model in the input is refused. */
    models?: ModelChoice;
    queues: Queues;
    redis: Redis;
    logger: Logger;
    publisherFor: (target: StreamTarget) => TokenPublisher;
    /** How an answer the edge ends itself (never enqueued, cancelled while queued) ends. */
    lifecycle: AnswerLifecycle;
  }) {
    this.orm = deps.orm;
    this.queues = deps.queues;
    this.redis = deps.redis;
    this.logger = deps.logger;
    this.publisherFor = deps.publisherFor;
    this.jobs = new JobStopper(deps.queues, deps.redis);
    this.models = deps.models ?? null;
    this.ending = deps.lifecycle;
  }

  /**
   * Stores the user's message and a pending answer, then enqueues the job that writes it.
   *
   * The whole turn is one SQL statement (see storeTurn), so one round trip and its own
   * transaction: the account's check (active), the conversation's (the owner's; or its
   * creation), both messages and the conversation's activity time commit together or not at
   * all, before the job exists. A resend of a clientMessageId is found by the unique index
   * refusing the insert, so a first send never pays for the lookup. The owner is a User or a
   * user id (a socket knows only the id; its account is checked here, in the same statement).
   */
  async send(owner: Owner, input: SendInput): Promise<Turn & { created: boolean }> {
    const userId = typeof owner === 'string' ? owner : owner.id;
    const em = this.orm.em.fork();
    const user = em.getReference(User, userId);
    // Attaching documents to a new conversation checks them first: the one extra round trip.
    const documents =
      !input.conversationId && input.documentIds?.length
        ? await ownDocuments(em, userId, input.documentIds)
        : [];
    // Choosing a model for a new conversation checks it too (one read of a small table).
    const model = !input.conversationId && input.model ? input.model : null;
    if (model) {
      if (!this.models) throw unknownModel(model);
      await this.models.require(em, model);
    }
    const now = new Date();
    const conversation = input.conversationId
      ? em.getReference(Conversation, input.conversationId)
      : em.create(Conversation, {
          user,
          mode: input.mode ?? 'chat',
          model,
          tools: input.tools ?? true,
          lastMessageAt: now,
        });
    if (documents.length > 0) conversation.documents.set(documents);
    const userMessage = em.create(Message, {
      conversation,
      user,
      role: 'user',
      status: 'complete',
      content: input.content,
      tokenCount: countTokens(input.content),
      clientMessageId: input.clientMessageId ?? null,
    });
    const assistantMessage = em.create(Message, {
      conversation,
      user,
      role: 'assistant',
      status: 'pending',
      replyTo: userMessage.id,
    });
    const turn: Turn = { conversation, userMessage, assistantMessage };
    let stored: { active: boolean; conversation: boolean };
    try {
      stored = await storeTurn(em as SqlEntityManager, turn, {
        userId,
        now,
        existingConversationId: input.conversationId,
        documentIds: documents.map((document) => document.id),
      });
    } catch (error) {
      // This clientMessageId was sent before (or at the same moment): answer with that turn.
      if (error instanceof UniqueConstraintViolationException && input.clientMessageId) {
        const existing = await this.findTurnByClientId(userId, input.clientMessageId);
        if (existing) {
          // An edge that stopped between storing the turn and enqueueing its job left the answer
          // pending with no job: the client's resend enqueues it (the same job id: a no-op if it exists).
          if (existing.assistantMessage.status === 'pending')
            await this.enqueueReply(existing.assistantMessage);
          return { ...existing, created: false };
        }
      }
      throw error;
    }
    if (!stored.active) throw unauthorized('The account behind this connection is no longer active.');
    if (!stored.conversation) throw notFound('conversation');
    await this.enqueueReply(assistantMessage);
    return { ...turn, created: true };
  }

  /** A new answer for the same user turn as `messageId` (an assistant message that has ended). */
  async regenerate(user: User, messageId: string): Promise<Message> {
    const em = this.orm.em.fork();
    const previous = await ownAssistantMessage(em, user, messageId, { withConversation: true });
    if (!previous.replyTo) throw notFound('message');
    if (!TERMINAL_MESSAGE_STATUSES.includes(previous.status)) {
      throw conflict('This answer is still being written; cancel it first.');
    }
    const assistantMessage = em.create(Message, {
      conversation: previous.conversation,
      user,
      role: 'assistant',
      status: 'pending',
      replyTo: previous.replyTo,
    });
    previous.conversation.lastMessageAt = new Date();
    await em.flush();
    await this.enqueueReply(assistantMessage);
    return assistantMessage;
  }

  /**
   * Stops an answer: removed from the queue if no worker has it yet, otherwise aborted by the
   * worker that holds it (which stores the partial text as `cancelled`).
   */
  async cancel(user: User, messageId: string): Promise<Message> {
    const em = this.orm.em.fork();
    const message = await ownAssistantMessage(em, user, messageId);
    if (message.status === 'cancelled') return message;
    if (TERMINAL_MESSAGE_STATUSES.includes(message.status)) {
      throw conflict(`This answer has already ended (${message.status}).`);
    }
    await new CancelFlags(this.redis, this.queues.prefix).raise(messageId);

    const stopped = await this.jobs.stop('chat', replyJobId(messageId));
    // No worker took it (or ever will): the answer ends here.
    if (stopped === 'removed' || stopped === 'missing') await this.finishUnstarted(message);
    return message;
  }

  /** Stops every unfinished answer of a conversation that is about to be deleted. */
  async cancelAllIn(user: User, conversationId: string): Promise<void> {
    const open = await this.orm.em.fork().find(Message, {
      conversation: conversationId,
      user,
      role: 'assistant',
      status: { $in: ['pending', 'streaming'] },
    });
    for (const message of open) await this.cancel(user, message.id).catch(() => undefined);
  }

  private async enqueueReply(assistantMessage: Message): Promise<void> {
    const conversationId = assistantMessage.conversation.id;
    const userId = assistantMessage.user.id;
    try {
      // The message id is the job id: enqueueing the same answer twice is a no-op.
      await this.queues.add(
        'chat',
        'generate-reply',
        { userId, conversationId, messageId: assistantMessage.id },
        { jobId: replyJobId(assistantMessage.id) },
      );
    } catch (error) {
      // The user's message is saved either way; the answer can't start, so say so and end it.
      this.logger.error(
        { messageId: assistantMessage.id, err: (error as Error).message },
        'reply not enqueued',
      );
      await this.ending.fail(
        { userId, conversationId, messageId: assistantMessage.id },
        this.publisherFor({ userId, conversationId, messageId: assistantMessage.id }),
        { error: 'The job queue is unavailable; regenerate the answer.', retryable: true },
        { maxWaitMs: 0 },
      );
      throw unavailable('Your message is saved, but the answer could not be started; regenerate it shortly.');
    }
  }

  /** Ends an answer no worker took (removed from the queue): the user's request waits for this. */
  private async finishUnstarted(message: Message): Promise<void> {
    const target = {
      userId: message.user.id,
      conversationId: message.conversation.id,
      messageId: message.id,
    };
    await this.ending.cancel(
      target,
      this.publisherFor(target),
      {
        model: null,
        promptTokens: 0,
        completionTokens: 0,
        ttftMs: null,
        latencyMs: null,
      },
      { maxWaitMs: 0 },
    );
    message.status = 'cancelled';
  }

  private async findTurnByClientId(user: Owner, clientMessageId: string): Promise<Turn | null> {
    const em = this.orm.em.fork();
    const userMessage = await em.findOne(Message, { user, clientMessageId }, { populate: ['conversation'] });
    if (!userMessage) return null;
    const assistantMessage = await em.findOne(
      Message,
      { user, replyTo: userMessage.id, role: 'assistant' },
      { orderBy: { id: 'desc' } },
    );
    if (!assistantMessage) return null;
    return { conversation: userMessage.conversation, userMessage, assistantMessage };
  }
}

/**
 * A new row as the unit of work would insert it: the entity's set properties by column, values
 * converted for the database (columns left unset keep their defaults). Built from the entity, so
 * a property added to the `em.create` above is stored without touching the SQL below.
 */
function rowOf(em: SqlEntityManager, entity: object): { columns: string; values: unknown[] } {
  const meta = em.getMetadata().get(entity.constructor as EntityClass<object>) as {
    properties: Record<string, EntityProperty>;
  };
  // Columns of this table only: scalars and the foreign keys it owns (collections are other tables).
  const snapshot = Object.fromEntries(
    Object.entries(em.getComparator().prepareEntity(entity) as Record<string, unknown>).filter(([key]) =>
      ['scalar', 'm:1'].includes(meta.properties[key]?.kind ?? ''),
    ),
  );
  const data = em.getDriver().mapDataToFieldNames(snapshot, true, meta.properties, true);
  const entries = Object.entries(data).filter(([, value]) => value !== undefined);
  return {
    columns: entries.map(([column]) => `"${column}"`).join(', '),
    values: entries.map(([, value]) => value),
  };
}

/**
 * The turn in one statement (its own transaction): the data-modifying CTEs below all commit or
 * none does, and each insert only selects from the row before it, so an inactive account writes
 * nothing, and a conversation that isn't the user's (the update finds no row) gets no messages.
 * A clientMessageId already stored fails the statement on the unique index; nothing stays.
 */
async function storeTurn(
  em: SqlEntityManager,
  { conversation, userMessage, assistantMessage }: Turn,
  turn: { userId: string; now: Date; existingConversationId?: string; documentIds: string[] },
): Promise<{ active: boolean; conversation: boolean }> {
  const params: unknown[] = [turn.userId];
  const insertFrom = (table: string, entity: object, from: string) => {
    const { columns, values } = rowOf(em, entity);
    params.push(...values);
    return `insert into "${table}" (${columns}) select ${values.map(() => '?').join(', ')} from ${from}`;
  };
  const steps = [`active as (select 1 from "users" where "id" = ? and "disabled_at" is null)`];
  if (turn.existingConversationId) {
    params.push(turn.now, turn.now, turn.existingConversationId, turn.userId);
    steps.push(
      `conversation as (update "conversations" set "last_message_at" = ?, "updated_at" = ?
        where "id" = ? and "user_id" = ? and exists (select 1 from active) returning 1)`,
    );
  } else {
    steps.push(`conversation as (${insertFrom('conversations', conversation, 'active')} returning 1)`);
    if (turn.documentIds.length > 0) {
      params.push(conversation.id, arrayLiteral(turn.documentIds));
      steps.push(
        `documents as (insert into "conversation_documents" ("conversation_id", "document_id")
          select ?, document_id from conversation, unnest(?::uuid[]) as document_id)`,
      );
    }
  }
  steps.push(`user_message as (${insertFrom('messages', userMessage, 'conversation')})`);
  steps.push(`assistant_message as (${insertFrom('messages', assistantMessage, 'conversation')})`);
  const [result] = await em.execute<{ active: number; conversation: number }[]>(
    `with ${steps.join(',\n')}
    select (select count(*) from active)::int as "active", (select count(*) from conversation)::int as "conversation"`,
    params,
  );
  return { active: result!.active > 0, conversation: result!.conversation > 0 };
}
