import type { EntityManager } from '@mikro-orm/core';
import type { Conversation } from '../db/entities/Conversation.ts';
import { TERMINAL_MESSAGE_STATUSES } from '../db/entities/Message.ts';
import { EmbedderUnavailableError } from '../embeddings/EmbedderUnavailableError.ts';
import { LlmError } from '../llm/LlmProvider.ts';
import type { ModelCatalog } from '../llm/ModelCatalog.ts';
import { countTokens } from '../llm/tokenCount.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/Metrics.ts';
import { type CancelFlags, USER_CANCEL_REASON } from '../queues/cancels.ts';
import type { GenerateReplyPayload } from '../queues/jobs.ts';
import type { StreamTarget, TokenPublisher } from '../relay/TokenPublisher.ts';
import type { SettingValues } from '../settings/RuntimeSettings.ts';
import type { SettingsCache } from '../settings/SettingsCache.ts';
import type { Tool } from '../tools/Tool.ts';
import type { ToolCatalog } from '../tools/ToolCatalog.ts';
import type { AnswerLifecycle, Usage } from './AnswerLifecycle.ts';
import { citedIn, passageCitations } from './context/groundedPrompt.ts';
import type { ReplyContext, ReplyPlan } from './context/ReplyContext.ts';
import type { FollowUps } from './followUps.ts';
import type { ToolLoop } from './ToolLoop.ts';

/** What a run reports back to its job (BullMQ keeps it as the job's return value). */
export type ReplyOutcome =
  | { skipped: string }
  | { outcome: 'interrupted' | 'cancelled' }
  | { outcome: 'complete'; model: null }
  | { outcome: 'complete'; completionTokens: number; ttftMs: number | null; latencyMs: number };

/** Why the run stops without a BullMQ retry: it ended the answer and told its tabs. */
export class AnswerEndedError extends Error {}

export interface ReplyRunDeps {
  context: ReplyContext;
  settings: SettingsCache;
  models: ModelCatalog;
  tools: ToolCatalog;
  loop: ToolLoop;
  lifecycle: AnswerLifecycle;
  followUps: FollowUps;
  cancels: CancelFlags;
  metrics: Metrics;
  publisherFor: (target: StreamTarget) => TokenPublisher;
}

/**
 * One answer, from its job to its end: load → plan → models → tools → stream → end.
 *
 * Why one module: every step decides something about the same answer (whether it may start,
 * which models and tools it gets, when its output may leave, how it ends), and the next features
 * (branches, assistants, the OpenAI-compatible API, budgets) change those steps together. The
 * run is idempotent by message id: a finished message is never answered twice, and an answer that
 * was interrupted after tokens went out ends `failed` with its partial text instead of restarting.
 * Output goes from the tool loop through the lifecycle's gate to the relay; the run only decides.
 */
export class ReplyRun {
  private readonly deps: ReplyRunDeps;

  constructor(deps: ReplyRunDeps) {
    this.deps = deps;
  }

  async answer(
    payload: GenerateReplyPayload,
    { em, signal, logger }: { em: EntityManager; signal: AbortSignal; logger: Logger },
  ): Promise<ReplyOutcome> {
    const { lifecycle } = this.deps;
    // Before the model call: the answer, its conversation, documents and history (two queries
    // sent together), the cancel flag (Redis, meanwhile), the settings and the configured model
    // providers (both cached per process).
    const [loaded, cancelled, settings] = await Promise.all([
      this.deps.context.load(em, payload),
      this.deps.cancels.raised(payload.messageId),
      this.deps.settings.get(em),
      this.deps.models.prefetch(em),
    ]);
    if (!loaded) return { skipped: 'deleted' };
    const { answer: message, conversation } = loaded;
    if (TERMINAL_MESSAGE_STATUSES.includes(message.status)) return { skipped: message.status };
    const target = { userId: payload.userId, conversationId: payload.conversationId, messageId: message.id };

    if (message.status === 'streaming') {
      // A previous attempt died mid-answer; its tokens already reached the user.
      await lifecycle.interrupt(target, 'The answer was interrupted (the worker stopped).', { signal });
      return { outcome: 'interrupted' };
    }
    const publisher = this.deps.publisherFor(target);
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
      await lifecycle.fail(target, publisher, { code, error: text, retryable: true }, { signal });
      throw new AnswerEndedError('embedding model unavailable');
    }
    if (plan.kind === 'fixed-answer') {
      if (!(await lifecycle.fixedAnswer(target, publisher, plan.answer, { signal })))
        return { skipped: 'ended' };
      this.deps.followUps.afterComplete(target, conversation, logger);
      return { outcome: 'complete', model: null };
    }
    if (plan.summarizeThroughId) this.deps.followUps.summarize(target, plan.summarizeThroughId, logger);
    const tools = await this.toolsFor(conversation, settings, models.supportsTools, signal, logger);

    // The model request and the `streaming` write go out together; the gate holds the output
    // until the write is committed (src/answers/OutputGate.ts).
    const startedAt = performance.now();
    const own = new AbortController();
    const output = lifecycle.gate(publisher, startedAt);
    const streaming = this.deps.loop.run({
      models: models.chain,
      messages: plan.messages,
      temperature: settings.temperature,
      maxTokens,
      tools,
      redactor: models.redactor,
      maxToolSteps: settings.maxToolSteps,
      signal: AbortSignal.any([signal, own.signal]),
      ...target,
      citationOffset: plan.passages.length,
      output,
    });
    streaming.catch(() => undefined); // handled below, after the status write
    const dropRequest = async () => {
      own.abort();
      output.refuse();
      await streaming.catch(() => undefined);
    };
    let began: boolean;
    try {
      began = await lifecycle.begin(target, models.chain.primary);
    } catch (error) {
      await dropRequest(); // nothing went out: the answer is still pending, a retry starts afresh
      throw error;
    }
    if (!began) {
      await dropRequest();
      return { skipped: 'ended' };
    }
    output.open();
    this.storeCounts(em, payload.userId, plan.counted, logger);

    try {
      const result = await streaming;
      const latencyMs = Math.round(performance.now() - startedAt);
      const { ttftMs } = output;
      if (result.aborted) {
        if (signal.reason === USER_CANCEL_REASON || (await this.deps.cancels.raised(message.id))) {
          const facts = { ttftMs, latencyMs, model: result.model, promptTokens: plan.promptTokens };
          await this.endCancelled(target, publisher, facts);
          return { outcome: 'cancelled' };
        }
        const error = 'The answer was interrupted (the worker is shutting down).';
        await lifecycle.fail(target, publisher, { error, retryable: true });
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
      const citations = citedIn(content, [...passageCitations(plan.passages), ...result.citations]);
      await lifecycle.complete(
        target,
        publisher,
        { model: result.model, ...usage, ttftMs, latencyMs, citations },
        { signal },
      );
      this.deps.followUps.afterComplete(target, conversation, logger);
      return { outcome: 'complete', completionTokens: usage.completionTokens, ttftMs, latencyMs };
    } catch (error) {
      if (!(error instanceof LlmError)) throw error; // unexpected: BullMQ retries; the last try ends it
      logger.warn(
        { status: error.status, err: error.message, streamed: publisher.lastSeq > 0 },
        'generation failed',
      );
      await lifecycle.fail(
        target,
        publisher,
        { error: error.message, retryable: error.retryable },
        { signal },
      );
      throw new AnswerEndedError(error.message);
    }
  }

  /** The last attempt failed in an unexpected way (or the job stalled too often): end the answer. */
  async endAfterLastAttempt(payload: GenerateReplyPayload, error: Error, logger: Logger): Promise<void> {
    // Often the database itself is why the job failed: ending the answer waits until it is back.
    logger.warn({ err: error.message }, 'answer ends after its last attempt');
    const { userId, conversationId, messageId } = payload;
    await this.deps.lifecycle.interrupt(
      { userId, conversationId, messageId },
      'The answer could not be completed; send the question again.',
    );
  }

  /**
   * The tools this answer may call: none when the conversation turned them off, the step limit is
   * 0, or a model of its chain can't call tools (the catalog's `supportsTools`, per model).
   */
  private async toolsFor(
    conversation: Conversation,
    settings: SettingValues,
    chainTakesTools: boolean,
    signal: AbortSignal,
    logger: Logger,
  ): Promise<Tool[]> {
    if (!conversation.tools || settings.maxToolSteps === 0 || !chainTakesTools) return [];
    return this.deps.tools.forAnswer({
      mode: conversation.mode,
      topK: settings.topK,
      signal,
      onSourceError: (error) => logger.warn({ err: error.message }, 'a tool source is unavailable'),
    });
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

  /** Ends the answer as cancelled, then lets its cancel flag expire. */
  private async endCancelled(
    target: StreamTarget,
    publisher: TokenPublisher,
    facts: Omit<Usage, 'completionTokens'>,
  ) {
    publisher.flush();
    const content = publisher.content;
    await this.deps.lifecycle.cancel(target, publisher, {
      ...facts,
      completionTokens: content ? countTokens(content) : 0,
    });
    await this.deps.cancels.expireSoon(target.messageId);
  }
}
