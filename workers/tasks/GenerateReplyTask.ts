import type { EntityManager } from '@mikro-orm/core';
import { UnrecoverableError } from 'bullmq';
import { buildContext, type Turn } from '../../src/chat/ContextBuilder.ts';
import { CANCEL_FLAG_TTL_SECONDS, cancelFlagKey, USER_CANCEL_REASON } from '../../src/chat/cancellation.ts';
import { citationsFor } from '../../src/chat/groundedPrompt.ts';
import { planGrounding } from '../../src/chat/grounding.ts';
import { countTokens } from '../../src/chat/tokenCount.ts';
import { Conversation } from '../../src/db/entities/Conversation.ts';
import { Message, TERMINAL_MESSAGE_STATUSES } from '../../src/db/entities/Message.ts';
import { EmbedderUnavailableError } from '../../src/embeddings/EmbedderUnavailableError.ts';
import { LlmError } from '../../src/llm/LlmProvider.ts';
import type { Logger } from '../../src/logger.ts';
import type { GenerateReplyPayload } from '../../src/queues/jobs.ts';
import { readSettings } from '../../src/settings/RuntimeSettings.ts';
import type { StreamTarget, TokenPublisher } from '../../src/stream/TokenPublisher.ts';
import { Task, type TaskContext } from '../Task.ts';
import type { ChatDependencies } from './chatDependencies.ts';

/** How many earlier messages are read to build a context; older ones live in the summary. */
const HISTORY_WINDOW = 400;

/**
 * Fills one assistant message: builds the context, streams the model's answer through the
 * relay, stores it with usage and timings, and always ends the message in a terminal status.
 * Idempotent by message id: a finished message is never answered twice, and an answer that was
 * interrupted after tokens went out ends `failed` with its partial text instead of restarting.
 */
export class GenerateReplyTask extends Task<GenerateReplyPayload> {
  private readonly deps: ChatDependencies;

  constructor(deps: ChatDependencies) {
    super();
    this.deps = deps;
  }

  async perform(payload: GenerateReplyPayload, { em, signal, logger }: TaskContext) {
    const message = await em.findOne(Message, { id: payload.messageId, user: payload.userId });
    if (!message) return { skipped: 'deleted' };
    if (TERMINAL_MESSAGE_STATUSES.includes(message.status)) return { skipped: message.status };
    const target = { userId: payload.userId, conversationId: payload.conversationId, messageId: message.id };

    if (message.status === 'streaming') {
      // A previous attempt died mid-answer; its tokens already reached the user.
      await this.deps.ending.interrupt(target, 'The answer was interrupted (the worker stopped).', {
        signal,
      });
      return { outcome: 'interrupted' };
    }
    const publisher = this.deps.publisher(target);
    if (await this.cancelRequested(message.id)) {
      await this.endCancelled(target, publisher, {
        ttftMs: null,
        latencyMs: null,
        model: null,
        promptTokens: 0,
      });
      return { outcome: 'cancelled' };
    }

    // Its attached documents decide the grounding; one query loads both.
    const conversation = await em.findOneOrFail(
      Conversation,
      { id: payload.conversationId, user: payload.userId },
      { populate: ['documents'] },
    );
    const settings = await readSettings(em, this.deps.config);
    const turns = await this.history(em, message);
    const { contextTokens } = this.deps.config.chat;
    const plan = await planGrounding(em, this.deps.retriever, {
      conversation,
      question: turns.at(-1)?.content ?? '',
      topK: settings.topK,
      promptBudgetTokens: contextTokens - settings.maxTokens,
    }).catch((error: unknown) => {
      if (!(error instanceof EmbedderUnavailableError)) throw error;
      // The operator's detail (model, folder, fix) stays in the log and /health/ready.
      logger.error({ err: error.message }, 'grounded answer without the embedding model');
      return null;
    });
    if (!plan) {
      await this.deps.ending.end(
        target,
        publisher,
        {
          status: 'failed',
          code: EmbedderUnavailableError.CODE,
          error: EmbedderUnavailableError.USER_MESSAGE,
          retryable: true,
        },
        { signal },
      );
      throw new UnrecoverableError('embedding model unavailable');
    }
    if (plan.kind === 'fixed-answer') {
      await this.answerWithoutModel(em, target, publisher, plan.answer, signal);
      this.afterComplete(payload, conversation, logger);
      return { outcome: 'complete', model: null };
    }
    const context = buildContext({
      systemPrompt: plan.systemPrompt,
      summary: conversation.summary ?? null,
      summaryThroughId: conversation.summaryThroughId ?? null,
      turns,
      contextTokens,
      answerTokens: settings.maxTokens,
    });
    if (context.unsummarizedDropped > 0 && context.lastDroppedId) {
      await this.deps.queues
        .add(
          'chat',
          'summarize-conversation',
          { userId: payload.userId, conversationId: conversation.id, throughId: context.lastDroppedId },
          { jobId: `summarize-${conversation.id}-${context.lastDroppedId}` },
        )
        .catch((error: Error) => logger.warn({ err: error.message }, 'summary not enqueued'));
    }

    // Committed before the first token leaves, so a retry after a crash knows tokens went out.
    message.status = 'streaming';
    message.model = settings.model;
    await em.flush();
    publisher.started();

    const startedAt = performance.now();
    let ttftMs: number | null = null;
    try {
      const result = await this.deps.provider.stream(
        {
          model: settings.model,
          messages: context.messages,
          temperature: settings.temperature,
          maxTokens: settings.maxTokens,
          signal,
        },
        (delta) => {
          ttftMs ??= Math.round(performance.now() - startedAt);
          publisher.push(delta);
        },
      );
      const latencyMs = Math.round(performance.now() - startedAt);
      if (result.aborted) {
        if (signal.reason === USER_CANCEL_REASON || (await this.cancelRequested(message.id))) {
          await this.endCancelled(target, publisher, {
            ttftMs,
            latencyMs,
            model: result.model,
            promptTokens: context.promptTokens,
          });
          return { outcome: 'cancelled' };
        }
        await this.deps.ending.end(target, publisher, {
          status: 'failed',
          error: 'The answer was interrupted (the worker is shutting down).',
          retryable: true,
        });
        return { outcome: 'interrupted' };
      }
      const content = publisher.content;
      const usage = result.usage ?? {
        promptTokens: context.promptTokens,
        completionTokens: countTokens(content),
      };
      // Metrics first: a client that reads /metrics after chat:done sees this answer counted.
      if (ttftMs !== null) this.deps.metrics.chatTimeToFirstToken.observe(ttftMs / 1000);
      const streamingMs = latencyMs - (ttftMs ?? 0);
      if (streamingMs > 0)
        this.deps.metrics.chatTokensPerSecond.observe(usage.completionTokens / (streamingMs / 1000));
      await this.deps.ending.end(
        target,
        publisher,
        {
          status: 'complete',
          model: result.model,
          promptTokens: usage.promptTokens,
          completionTokens: usage.completionTokens,
          ttftMs,
          latencyMs,
          citations: citationsFor(content, plan.passages),
        },
        { signal },
      );
      this.afterComplete(payload, conversation, logger);
      return { outcome: 'complete', completionTokens: usage.completionTokens, ttftMs, latencyMs };
    } catch (error) {
      const llmError = error instanceof LlmError ? error : undefined;
      if (!llmError) throw error; // unexpected: BullMQ retries; onFailed ends the message on the last try
      logger.warn(
        { status: llmError.status, err: llmError.message, streamed: publisher.lastSeq > 0 },
        'generation failed',
      );
      await this.deps.ending.end(
        target,
        publisher,
        { status: 'failed', error: llmError.message, retryable: llmError.retryable },
        { signal },
      );
      // Ended and told: no BullMQ retry may restart it and duplicate text.
      throw new UnrecoverableError(llmError.message);
    }
  }

  /** Follow-up work of a finished answer: a title for a new conversation, search embeddings of the turn. */
  private afterComplete(payload: GenerateReplyPayload, conversation: Conversation, logger: Logger) {
    const { queues } = this.deps;
    if (!conversation.title) {
      queues
        .add(
          'chat',
          'generate-title',
          { userId: payload.userId, conversationId: conversation.id },
          { jobId: `title-${conversation.id}` },
        )
        .catch((error: Error) => logger.warn({ err: error.message }, 'title not enqueued'));
    }
    queues
      .add(
        'ingest',
        'embed-messages',
        { userId: payload.userId, messageId: payload.messageId },
        { jobId: `embed-${payload.messageId}` },
      )
      .catch((error: Error) => logger.warn({ err: error.message }, 'message embedding not enqueued'));
  }

  /** Ends the answer with a fixed text, streamed like a model's so clients need no special case. */
  private async answerWithoutModel(
    em: EntityManager,
    target: StreamTarget,
    publisher: TokenPublisher,
    answer: string,
    signal: AbortSignal,
  ) {
    await em.nativeUpdate(Message, { id: target.messageId }, { status: 'streaming' });
    publisher.started();
    publisher.push(answer);
    await this.deps.ending.end(
      target,
      publisher,
      {
        status: 'complete',
        model: null,
        promptTokens: 0,
        completionTokens: 0,
        ttftMs: 0,
        latencyMs: 0,
        citations: [],
      },
      { signal },
    );
  }

  /** Last attempt failed in an unexpected way (or the job stalled too often): end the message. */
  override async onFailed(
    payload: GenerateReplyPayload,
    error: Error,
    { logger }: Omit<TaskContext, 'signal'>,
  ) {
    // Often the database itself is why the job failed: ending the answer waits until it is back.
    logger.warn({ err: error.message }, 'answer ends after its last attempt');
    await this.deps.ending.interrupt(
      { userId: payload.userId, conversationId: payload.conversationId, messageId: payload.messageId },
      'The answer could not be completed; send the question again.',
    );
  }

  private async history(em: EntityManager, message: Message): Promise<Turn[]> {
    const rows = await em.find(
      Message,
      {
        conversation: message.conversation,
        id: { $lte: message.replyTo! },
        role: { $in: ['user', 'assistant'] },
      },
      { orderBy: { id: 'desc' }, limit: HISTORY_WINDOW },
    );
    rows.reverse();
    // One answer per user turn: the latest complete one (regenerations replace earlier ones).
    const answers = new Map<string, Message>();
    for (const row of rows)
      if (row.role === 'assistant' && row.status === 'complete' && row.replyTo) answers.set(row.replyTo, row);
    const turns: Turn[] = [];
    for (const row of rows) {
      if (row.role !== 'user') continue;
      turns.push({ id: row.id, role: 'user', content: row.content });
      const answer = answers.get(row.id);
      if (answer && row.id !== message.replyTo)
        turns.push({ id: answer.id, role: 'assistant', content: answer.content });
    }
    return turns;
  }

  private async cancelRequested(messageId: string): Promise<boolean> {
    return (
      (await this.deps.streamRedis.exists(cancelFlagKey(this.deps.config.redis.queuePrefix, messageId))) === 1
    );
  }

  private async endCancelled(
    target: StreamTarget,
    publisher: TokenPublisher,
    facts: { ttftMs: number | null; latencyMs: number | null; model: string | null; promptTokens: number },
  ) {
    publisher.flush();
    const content = publisher.content;
    await this.deps.ending.end(target, publisher, {
      status: 'cancelled',
      ...facts,
      completionTokens: content ? countTokens(content) : 0,
    });
    await this.deps.streamRedis.expire(
      cancelFlagKey(this.deps.config.redis.queuePrefix, target.messageId),
      CANCEL_FLAG_TTL_SECONDS,
    );
  }
}
