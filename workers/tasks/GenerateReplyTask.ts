import { UnrecoverableError } from 'bullmq';
import { CANCEL_FLAG_TTL_SECONDS, cancelFlagKey, USER_CANCEL_REASON } from '../../src/chat/cancellation.ts';
import { citationsFor } from '../../src/chat/groundedPrompt.ts';
import type { ReplyPlan } from '../../src/chat/ReplyContext.ts';
import { countTokens } from '../../src/chat/tokenCount.ts';
import type { Conversation } from '../../src/db/entities/Conversation.ts';
import { TERMINAL_MESSAGE_STATUSES } from '../../src/db/entities/Message.ts';
import { EmbedderUnavailableError } from '../../src/embeddings/EmbedderUnavailableError.ts';
import { LlmError } from '../../src/llm/LlmProvider.ts';
import type { Logger } from '../../src/logger.ts';
import { findOwnAssistantMessage, ownConversation } from '../../src/policies/ownership.ts';
import { embedJobId, type GenerateReplyPayload, summaryJobId, titleJobId } from '../../src/queues/jobs.ts';
import type { StreamTarget, TokenPublisher } from '../../src/relay/TokenPublisher.ts';
import { readSettings } from '../../src/settings/RuntimeSettings.ts';
import { Task, type TaskContext } from '../Task.ts';
import type { ChatDependencies } from './chatDependencies.ts';

/**
 * Fills one assistant message: plans its context (ReplyContext), streams the model's answer
 * through the relay, and ends it through AnswerEnding — always in a terminal status, its tabs
 * told. Idempotent by message id: a finished message is never answered twice, and an answer that
 * was interrupted after tokens went out ends `failed` with its partial text instead of restarting.
 */
export class GenerateReplyTask extends Task<GenerateReplyPayload> {
  private readonly deps: ChatDependencies;

  constructor(deps: ChatDependencies) {
    super();
    this.deps = deps;
  }

  async perform(payload: GenerateReplyPayload, { em, signal, logger }: TaskContext) {
    const { ending } = this.deps;
    const message = await findOwnAssistantMessage(em, payload.userId, payload.messageId);
    if (!message) return { skipped: 'deleted' };
    if (TERMINAL_MESSAGE_STATUSES.includes(message.status)) return { skipped: message.status };
    const target = { userId: payload.userId, conversationId: payload.conversationId, messageId: message.id };

    if (message.status === 'streaming') {
      // A previous attempt died mid-answer; its tokens already reached the user.
      await ending.interrupt(target, 'The answer was interrupted (the worker stopped).', { signal });
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
    const conversation = await ownConversation(em, payload.userId, payload.conversationId, {
      withDocuments: true,
    });
    const settings = await readSettings(em, this.deps.config);
    let plan: ReplyPlan;
    try {
      plan = await this.deps.context.plan(em, conversation, message, settings);
    } catch (error) {
      if (!(error instanceof EmbedderUnavailableError)) throw error;
      // The operator's detail (model, folder, fix) stays in the log and /health/ready.
      logger.error({ err: error.message }, 'grounded answer without the embedding model');
      const { CODE: code, USER_MESSAGE: text } = EmbedderUnavailableError;
      await ending.fail(target, publisher, { code, error: text, retryable: true }, { signal });
      throw new UnrecoverableError('embedding model unavailable');
    }
    if (plan.kind === 'fixed-answer') {
      await ending.fixedAnswer(target, publisher, plan.answer, { signal });
      this.afterComplete(payload, conversation, logger);
      return { outcome: 'complete', model: null };
    }
    if (plan.summarizeThroughId) this.summarize(payload, plan.summarizeThroughId, logger);

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
          messages: plan.messages,
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
          const facts = { ttftMs, latencyMs, model: result.model, promptTokens: plan.promptTokens };
          await this.endCancelled(target, publisher, facts);
          return { outcome: 'cancelled' };
        }
        const error = 'The answer was interrupted (the worker is shutting down).';
        await ending.fail(target, publisher, { error, retryable: true });
        return { outcome: 'interrupted' };
      }
      const content = publisher.content;
      const usage = result.usage ?? {
        promptTokens: plan.promptTokens,
        completionTokens: countTokens(content),
      };
      // Metrics first: a client that reads /metrics after chat:done sees this answer counted.
      if (ttftMs !== null) this.deps.metrics.chatTimeToFirstToken.observe(ttftMs / 1000);
      const streamingMs = latencyMs - (ttftMs ?? 0);
      if (streamingMs > 0)
        this.deps.metrics.chatTokensPerSecond.observe(usage.completionTokens / (streamingMs / 1000));
      await ending.complete(
        target,
        publisher,
        {
          model: result.model,
          ...usage,
          ttftMs,
          latencyMs,
          citations: citationsFor(content, plan.passages),
        },
        { signal },
      );
      this.afterComplete(payload, conversation, logger);
      return { outcome: 'complete', completionTokens: usage.completionTokens, ttftMs, latencyMs };
    } catch (error) {
      if (!(error instanceof LlmError)) throw error; // unexpected: BullMQ retries; onFailed ends it on the last try
      logger.warn(
        { status: error.status, err: error.message, streamed: publisher.lastSeq > 0 },
        'generation failed',
      );
      await ending.fail(target, publisher, { error: error.message, retryable: error.retryable }, { signal });
      // Ended and told: no BullMQ retry may restart it and duplicate text.
      throw new UnrecoverableError(error.message);
    }
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

  /** Turns fell out of the prompt: a low-priority job folds them into the conversation's summary. */
  private summarize(payload: GenerateReplyPayload, throughId: string, logger: Logger) {
    this.deps.queues
      .add(
        'chat',
        'summarize-conversation',
        { userId: payload.userId, conversationId: payload.conversationId, throughId },
        { jobId: summaryJobId(payload.conversationId, throughId) },
      )
      .catch((error: Error) => logger.warn({ err: error.message }, 'summary not enqueued'));
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
          { jobId: titleJobId(conversation.id) },
        )
        .catch((error: Error) => logger.warn({ err: error.message }, 'title not enqueued'));
    }
    queues
      .add(
        'ingest',
        'embed-messages',
        { userId: payload.userId, messageId: payload.messageId },
        { jobId: embedJobId(payload.messageId) },
      )
      .catch((error: Error) => logger.warn({ err: error.message }, 'message embedding not enqueued'));
  }

  private async cancelRequested(messageId: string): Promise<boolean> {
    return (
      (await this.deps.streamRedis.exists(cancelFlagKey(this.deps.config.redis.queuePrefix, messageId))) === 1
    );
  }

  /** Ends the answer as cancelled, then lets its cancel flag expire. */
  private async endCancelled(
    target: StreamTarget,
    publisher: TokenPublisher,
    facts: { ttftMs: number | null; latencyMs: number | null; model: string | null; promptTokens: number },
  ) {
    publisher.flush();
    const content = publisher.content;
    await this.deps.ending.cancel(target, publisher, {
      ...facts,
      completionTokens: content ? countTokens(content) : 0,
    });
    await this.deps.streamRedis.expire(
      cancelFlagKey(this.deps.config.redis.queuePrefix, target.messageId),
      CANCEL_FLAG_TTL_SECONDS,
    );
  }
}
