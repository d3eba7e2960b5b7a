import type { EntityManager } from '@mikro-orm/core';
import { UnrecoverableError } from 'bullmq';
import { CANCEL_FLAG_TTL_SECONDS, cancelFlagKey, USER_CANCEL_REASON } from '../../src/chat/cancellation.ts';
import { citedIn, passageCitations } from '../../src/chat/groundedPrompt.ts';
import type { ReplyPlan } from '../../src/chat/ReplyContext.ts';
import { countTokens } from '../../src/chat/tokenCount.ts';
import type { Conversation } from '../../src/db/entities/Conversation.ts';
import { Message, TERMINAL_MESSAGE_STATUSES } from '../../src/db/entities/Message.ts';
import { EmbedderUnavailableError } from '../../src/embeddings/EmbedderUnavailableError.ts';
import { LlmError } from '../../src/llm/LlmProvider.ts';
import type { Logger } from '../../src/logger.ts';
import { embedJobId, type GenerateReplyPayload, summaryJobId, titleJobId } from '../../src/queues/jobs.ts';
import { retryEnqueue } from '../../src/queues/retryEnqueue.ts';
import type { StreamTarget, TokenPublisher } from '../../src/relay/TokenPublisher.ts';
import type { SettingValues } from '../../src/settings/RuntimeSettings.ts';
import type { Tool } from '../../src/tools/Tool.ts';
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
    // Before the model call: the answer, its conversation, documents and history (two queries
    // sent together), the cancel flag (Redis, meanwhile), the settings and the configured model
    // providers (both cached per process).
    const [loaded, cancelled, settings] = await Promise.all([
      this.deps.context.load(em, payload),
      this.cancelRequested(payload.messageId),
      this.deps.settings.get(em),
      this.deps.models.prefetch(em),
    ]);
    if (!loaded) return { skipped: 'deleted' };
    const { answer: message, conversation } = loaded;
    if (TERMINAL_MESSAGE_STATUSES.includes(message.status)) return { skipped: message.status };
    const target = { userId: payload.userId, conversationId: payload.conversationId, messageId: message.id };

    if (message.status === 'streaming') {
      // A previous attempt died mid-answer; its tokens already reached the user.
      await ending.interrupt(target, 'The answer was interrupted (the worker stopped).', { signal });
      return { outcome: 'interrupted' };
    }
    const publisher = this.deps.publisher(target);
    if (cancelled) {
      await this.endCancelled(target, publisher, {
        ttftMs: null,
        latencyMs: null,
        model: null,
        promptTokens: 0,
      });
      return { outcome: 'cancelled' };
    }

    // The conversation's model (or the admin's default), its fallbacks, and the budget they share.
    const models = await this.deps.models.chainFor(
      em,
      conversation.model ?? null,
      settings.model,
      (from, to) => {
        logger.warn({ from: from.ref, to: to.ref }, 'model failed before its first token: falling back');
        this.deps.metrics.llmFallbacks.inc({ from: from.ref, to: to.ref });
      },
    );
    // A small model's context keeps room for the prompt: the answer gets at most 3/4 of it.
    const maxTokens = Math.min(settings.maxTokens, Math.floor((models.contextTokens * 3) / 4));
    let plan: ReplyPlan;
    try {
      plan = await this.deps.context.plan(em, loaded, { ...settings, maxTokens }, models.contextTokens);
    } catch (error) {
      if (!(error instanceof EmbedderUnavailableError)) throw error;
      // The operator's detail (model, folder, fix) stays in the log and /health/ready.
      logger.error({ err: error.message }, 'grounded answer without the embedding model');
      const { CODE: code, USER_MESSAGE: text } = EmbedderUnavailableError;
      await ending.fail(target, publisher, { code, error: text, retryable: true }, { signal });
      throw new UnrecoverableError('embedding model unavailable');
    }
    if (plan.kind === 'fixed-answer') {
      if (!(await ending.fixedAnswer(target, publisher, plan.answer, { signal })))
        return { skipped: 'ended' };
      this.afterComplete(payload, conversation, logger);
      return { outcome: 'complete', model: null };
    }
    if (plan.summarizeThroughId) this.summarize(payload, plan.summarizeThroughId, logger);
    const tools = await this.toolsFor(conversation, settings, models.supportsTools, signal, logger);

    // The model request and the `streaming` write go out together; tokens are held until the
    // write is committed, and tool calls wait for it (a tool event is output too), so nothing
    // leaves before a retry after a crash could know it went out — and a retry never runs tools.
    const startedAt = performance.now();
    let ttftMs: number | null = null;
    let held: string | null = '';
    const own = new AbortController();
    let allowOutput: (allowed: boolean) => void = () => {};
    const outputAllowed = new Promise<boolean>((resolve) => {
      allowOutput = resolve;
    });
    const streaming = this.deps.loop.run({
      models: models.chain,
      messages: plan.messages,
      temperature: settings.temperature,
      maxTokens,
      tools,
      maxToolSteps: settings.maxToolSteps,
      signal: AbortSignal.any([signal, own.signal]),
      ...target,
      citationOffset: plan.passages.length,
      outputAllowed,
      onToken: (delta) => {
        ttftMs ??= Math.round(performance.now() - startedAt);
        if (held === null) publisher.push(delta);
        else held += delta;
      },
      onTool: (activity) => publisher.tool(activity),
    });
    streaming.catch(() => undefined); // handled below, after the status write
    const dropRequest = async () => {
      own.abort();
      allowOutput(false);
      await streaming.catch(() => undefined);
    };
    let marked: boolean;
    try {
      marked = await this.markStreaming(em, message.id, models.chain.primary);
    } catch (error) {
      await dropRequest(); // nothing went out: the answer is still pending, a retry starts afresh
      throw error;
    }
    if (!marked) {
      // Ended meanwhile (a cancel while it was queued, the sweeper): that ending told the tabs.
      await dropRequest();
      return { skipped: 'ended' };
    }
    publisher.started();
    const early = held;
    held = null;
    publisher.push(early);
    allowOutput(true);
    this.storeCounts(em, payload.userId, plan.counted, logger);

    try {
      const result = await streaming;
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
      // Tokens per second of the model's streaming: time in tools is not streaming.
      const streamingMs = latencyMs - (ttftMs ?? 0) - result.toolMs;
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
          citations: citedIn(content, [...passageCitations(plan.passages), ...result.citations]),
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

  /**
   * The tools this answer may call: none when the conversation turned them off, the step limit is
   * 0, or the model can't call tools. Until providers declare capabilities per model, Groq's
   * models count as tool-capable and the offline stand-in as not.
   */
  private async toolsFor(
    conversation: Conversation,
    settings: SettingValues,
    modelTakesTools: boolean,
    signal: AbortSignal,
    logger: Logger,
  ): Promise<Tool[]> {
    if (!conversation.tools || settings.maxToolSteps === 0 || !modelTakesTools) return [];
    return this.deps.tools.forAnswer({
      mode: conversation.mode,
      topK: settings.topK,
      signal,
      onSourceError: (error) => logger.warn({ err: error.message }, 'a tool source is unavailable'),
    });
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
    // Retried while Redis is away (a failover); nobody waits for them.
    if (!conversation.title) {
      void retryEnqueue(
        () =>
          queues.add(
            'chat',
            'generate-title',
            { userId: payload.userId, conversationId: conversation.id },
            { jobId: titleJobId(conversation.id) },
          ),
        'title',
        logger,
      );
    }
    void retryEnqueue(
      () =>
        queues.add(
          'ingest',
          'embed-messages',
          { userId: payload.userId, messageId: payload.messageId },
          { jobId: embedJobId(payload.messageId) },
        ),
      'message embedding',
      logger,
    );
  }

  /**
   * The answer turns `streaming` if it is still pending: one statement, committed on its own.
   * False when something else ended it meanwhile.
   */
  private async markStreaming(em: EntityManager, messageId: string, model: string): Promise<boolean> {
    const updated = await em.nativeUpdate(
      Message,
      { id: messageId, status: 'pending' },
      { status: 'streaming', model, updatedAt: new Date() },
    );
    return updated > 0;
  }

  /** Stores the token counts the prompt had to count (older rows); nobody waits for it. */
  private storeCounts(
    em: EntityManager,
    userId: string,
    counted: Array<{ id: string; tokens: number }>,
    logger: Logger,
  ) {
    if (counted.length === 0) return;
    this.deps.context
      .storeCounts(em, userId, counted)
      .catch((error: Error) => logger.warn({ err: error.message }, 'token counts not stored'));
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
