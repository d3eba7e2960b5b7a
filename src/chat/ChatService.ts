import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Redis } from 'ioredis';
import { Conversation, type ConversationMode } from '../db/entities/Conversation.ts';
import { Message, TERMINAL_MESSAGE_STATUSES } from '../db/entities/Message.ts';
import type { User } from '../db/entities/User.ts';
import type { Orm } from '../db/orm.ts';
import { conflict, notFound, unavailable } from '../errors/AppError.ts';
import type { Logger } from '../logger.ts';
import { ownAssistantMessage, ownConversation, ownDocuments } from '../policies/ownership.ts';
import { JobStopper } from '../queues/JobStopper.ts';
import { replyJobId } from '../queues/jobs.ts';
import type { Queues } from '../queues/Queues.ts';
import { ReplayReader } from '../relay/ReplayReader.ts';
import type { StreamTarget, TokenPublisher } from '../relay/TokenPublisher.ts';
import { AnswerEnding } from './AnswerEnding.ts';
import { CANCEL_FLAG_TTL_SECONDS, cancelFlagKey } from './cancellation.ts';

export interface SendInput {
  conversationId?: string;
  content: string;
  clientMessageId?: string;
  mode?: ConversationMode;
  documentIds?: string[];
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
  private readonly ending: AnswerEnding;
  private readonly jobs: JobStopper;

  constructor(deps: {
    orm: Orm;
    queues: Queues;
    redis: Redis;
    logger: Logger;
    publisherFor: (target: StreamTarget) => TokenPublisher;
  }) {
    this.orm = deps.orm;
    this.queues = deps.queues;
    this.redis = deps.redis;
    this.logger = deps.logger;
    this.publisherFor = deps.publisherFor;
    this.jobs = new JobStopper(deps.queues, deps.redis);
    this.ending = new AnswerEnding({
      em: () => deps.orm.em.fork(),
      publisherFor: deps.publisherFor,
      replay: new ReplayReader(deps.redis, deps.queues.prefix),
      logger: deps.logger,
    });
  }

  async send(user: User, input: SendInput): Promise<Turn & { created: boolean }> {
    if (input.clientMessageId) {
      const existing = await this.findTurnByClientId(user, input.clientMessageId);
      if (existing) return { ...existing, created: false };
    }
    let turn: Turn;
    try {
      turn = await this.orm.em.fork().transactional(async (em) => {
        const conversation = input.conversationId
          ? await ownConversation(em, user, input.conversationId)
          : em.create(Conversation, { user, mode: input.mode ?? 'chat' });
        if (!input.conversationId && input.documentIds?.length) {
          conversation.documents.set(await ownDocuments(em, user, input.documentIds));
        }
        const userMessage = em.create(Message, {
          conversation,
          user,
          role: 'user',
          status: 'complete',
          content: input.content,
          clientMessageId: input.clientMessageId ?? null,
        });
        const assistantMessage = em.create(Message, {
          conversation,
          user,
          role: 'assistant',
          status: 'pending',
          replyTo: userMessage.id,
        });
        conversation.lastMessageAt = new Date();
        return { conversation, userMessage, assistantMessage };
      });
    } catch (error) {
      // The same clientMessageId sent twice at once: the other request won; answer with its turn.
      if (error instanceof UniqueConstraintViolationException && input.clientMessageId) {
        const existing = await this.findTurnByClientId(user, input.clientMessageId);
        if (existing) return { ...existing, created: false };
      }
      throw error;
    }
    await this.enqueueReply(turn.assistantMessage);
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
    const { prefix } = this.queues;
    await this.redis.set(cancelFlagKey(prefix, messageId), '1', 'EX', CANCEL_FLAG_TTL_SECONDS);

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

  private async findTurnByClientId(user: User, clientMessageId: string): Promise<Turn | null> {
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
