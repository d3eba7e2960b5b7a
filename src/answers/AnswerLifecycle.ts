import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { type Citation, Message, type MessageStatus } from '../db/entities/Message.ts';
import type { ToolCallRecord } from '../db/toolCall.ts';
import { untilDatabaseAnswers } from '../db/untilDatabaseAnswers.ts';
import { countTokens } from '../llm/tokenCount.ts';
import type { Logger } from '../logger.ts';
import type { ReplayReader } from '../relay/ReplayReader.ts';
import type { ResumePoint, StreamTarget, TokenPublisher } from '../relay/TokenPublisher.ts';
import { doneFromStoredMessage, type StoredAnswer, type TerminalEvent } from '../relay/terminalEvent.ts';
import { OutputGate } from './OutputGate.ts';

/** The calls as stored at the end: none → null; one still running when the answer ended did not finish. */
const endedToolCalls = (calls: ToolCallRecord[]): ToolCallRecord[] | null =>
  calls.length === 0
    ? null
    : calls.map((call) =>
        call.status === 'running' ? { ...call, status: 'error', summary: 'did not finish' } : call,
      );

const UNFINISHED: MessageStatus[] = ['pending', 'streaming'];
export interface Usage {
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  ttftMs: number | null;
  latencyMs: number | null;
}

export type CompleteFacts = Usage & { citations: Citation[] };

export interface Failure {
  /** For the user: what happened and what to do. */
  error: string;
  /** Whether sending the same question again may work (chat:error `retryable`). */
  retryable: boolean;
  /** chat:error `code`; the stored answer keeps only the text, replays say `llm_unavailable`. */
  code?: string;
}

/** How long an ending may wait for the database, and what stops the wait. */
export interface Wait {
  signal?: AbortSignal;
  maxWaitMs?: number;
}

/** How an answer ends; its text is what the publisher streamed. */
type AnswerEnd =
  | ({ status: 'complete' } & CompleteFacts)
  | ({ status: 'cancelled' } & Usage)
  | ({ status: 'failed' } & Failure);

export interface AnswerLifecycleDeps {
  /** A fresh entity manager for each write (the caller's may hold a broken connection's state). */
  em: () => EntityManager;
  publisherFor: (target: StreamTarget, resumeFrom?: ResumePoint) => TokenPublisher;
  /** Where an answer whose writer is gone left its text. */
  replay: Pick<ReplayReader, 'streamedSoFar'>;
  logger: Logger;
}

/**
 * An answer's life, in one place: it starts (pending → streaming, `begin`), its output passes the
 * hold-until-committed gate (`gate`, src/answers/OutputGate.ts), and it ends.
 *
 * The one place where an answer reaches a terminal status (complete, cancelled, failed, or
 * interrupted: failed with what its replay log holds) and its tabs are told. The status is written only if the answer is still unfinished, so of two
 * enders (the worker, a cancel, the sweeper) exactly one wins and only the winner publishes the
 * final event. A write that meets a database outage waits for the database (up to `maxWaitMs`),
 * so an answer never stays `streaming` because Postgres blinked while it ended.
 */
export class AnswerLifecycle {
  private readonly deps: AnswerLifecycleDeps;

  constructor(deps: AnswerLifecycleDeps) {
    this.deps = deps;
  }

  /** The model's answer is all there: stored with usage, timings and citations, then chat:done. */
  complete(target: StreamTarget, publisher: TokenPublisher, facts: CompleteFacts, wait?: Wait) {
    return this.end(target, publisher, { status: 'complete', ...facts }, wait);
  }

  /** The user stopped it: the text so far is kept, then chat:done with status `cancelled`. */
  cancel(target: StreamTarget, publisher: TokenPublisher, facts: Usage, wait?: Wait) {
    return this.end(target, publisher, { status: 'cancelled', ...facts }, wait);
  }

  /** It can't go on: the text so far is kept, then chat:error saying whether to try again. */
  fail(target: StreamTarget, publisher: TokenPublisher, failure: Failure, wait?: Wait) {
    return this.end(target, publisher, { status: 'failed', ...failure }, wait);
  }

  /**
   * An answer that needs no model (nothing in the documents can ground it): the text is
   * streamed like a model's, so clients need no special case, and the answer completes.
   */
  async fixedAnswer(target: StreamTarget, publisher: TokenPublisher, text: string, wait?: Wait) {
    if (!(await this.begin(target, null))) return false;
    publisher.started();
    publisher.push(text);
    return this.complete(
      target,
      publisher,
      { model: null, promptTokens: 0, completionTokens: 0, ttftMs: 0, latencyMs: 0, citations: [] },
      wait,
    );
  }

  /**
   * The first step: a pending answer turns `streaming` (one statement, committed on its own), with
   * the model asked first. False when something else ended it meanwhile (a cancel while it was
   * queued, the sweeper): only a pending answer starts, and that ending told the tabs.
   */
  async begin(target: StreamTarget, model: string | null): Promise<boolean> {
    const started = await this.deps
      .em()
      .nativeUpdate(
        Message,
        { id: target.messageId, status: 'pending' },
        { status: 'streaming', updatedAt: new Date(), ...(model ? { model } : {}) },
      );
    return started > 0;
  }

  /** The gate the answer's output passes once `begin` is committed (see OutputGate). */
  gate(publisher: TokenPublisher, startedAt?: number): OutputGate {
    return new OutputGate(publisher, startedAt);
  }

  /** Ends an answer whose worker is gone, as `failed` with the text its replay log shows. */
  async interrupt(target: StreamTarget, reason: string, wait?: Wait): Promise<boolean> {
    const soFar = await this.deps.replay.streamedSoFar(target.messageId);
    return this.fail(target, this.deps.publisherFor(target, soFar), { error: reason, retryable: true }, wait);
  }

  /** Stores the end and publishes it; false when someone else had already ended the answer. */
  private async end(
    target: StreamTarget,
    publisher: TokenPublisher,
    end: AnswerEnd,
    wait: Wait = {},
  ): Promise<boolean> {
    publisher.flush();
    const stored = this.storedFields(publisher.content, end);
    // One timestamp for every try: a try that finds its own earlier write recognises it by this.
    const endedAt = new Date();
    // Stored with the text, so later prompts don't tokenize this answer again.
    const tokenCount = countTokens(stored.content);
    const toolCalls = endedToolCalls(publisher.toolCalls);
    const won = await untilDatabaseAnswers(() => this.store(target, stored, toolCalls, tokenCount, endedAt), {
      logger: this.deps.logger.child({ messageId: target.messageId }),
      what: `ending answer ${target.messageId} (${end.status})`,
      ...wait,
    });
    if (!won) return false;
    await publisher.finish(this.finalEvent(target, stored, end));
    return true;
  }

  private storedFields(content: string, end: AnswerEnd): Omit<StoredAnswer, 'id' | 'conversation'> {
    if (end.status === 'failed') {
      return {
        status: 'failed',
        content,
        error: end.error,
        model: null,
        promptTokens: null,
        completionTokens: null,
        ttftMs: null,
        latencyMs: null,
        citations: null,
      };
    }
    const { status, model, promptTokens, completionTokens, ttftMs, latencyMs } = end;
    return {
      status,
      content,
      error: null,
      model,
      promptTokens,
      completionTokens,
      ttftMs,
      latencyMs,
      citations: end.status === 'complete' ? end.citations : null,
    };
  }

  /**
   * Writes the end if the answer is unfinished. A retry after a lost reply may find its own
   * write already there: the same status and text count as won.
   */
  private async store(
    target: StreamTarget,
    stored: Omit<StoredAnswer, 'id' | 'conversation'>,
    toolCalls: ToolCallRecord[] | null,
    tokenCount: number,
    endedAt: Date,
  ): Promise<boolean> {
    const { status, content, error, model, promptTokens, completionTokens, ttftMs, latencyMs, citations } =
      stored;
    const fields =
      status === 'failed'
        ? { status, content, tokenCount, error }
        : {
            status,
            content,
            tokenCount,
            error,
            model,
            promptTokens,
            completionTokens,
            ttftMs,
            latencyMs,
            citations,
          };
    // One statement (no begin/commit round trips): the answer's write, the conversation's touch
    // when it completes, and what the row held before — which tells a retry its own earlier write.
    const values: Record<string, unknown> = { ...fields, toolCalls, updatedAt: endedAt };
    const columns = Object.keys(values);
    const em = this.deps.em() as SqlEntityManager;
    // Column names from the entity's metadata, so a renamed property can't drift from this SQL.
    const { properties } = em.getMetadata().get(Message);
    const column = (key: string) => properties[key as keyof typeof properties]!.fieldNames[0]!;
    const params: unknown[] = columns.map((key) =>
      (key === 'citations' || key === 'toolCalls') && values[key] !== null
        ? JSON.stringify(values[key])
        : values[key],
    );
    const touch =
      status === 'complete'
        ? `, touched as (update conversations set last_message_at = ?
                          where id = ? and exists (select 1 from ended))`
        : '';
    params.push(target.messageId, ...UNFINISHED);
    if (status === 'complete') params.push(endedAt, target.conversationId);
    params.push(target.messageId);
    const rows: Array<{ won: boolean; status: string; updated_at: Date }> = await em.execute(
      `with ended as (update messages set ${columns.map((key) => `${column(key)} = ?`).join(', ')}
                       where id = ? and status in (?, ?) returning id)${touch}
       select exists (select 1 from ended) as won, m.status, m.updated_at from messages m where m.id = ?`,
      params,
    );
    const row = rows[0];
    if (!row) return false;
    return row.won || (row.status === status && new Date(row.updated_at).getTime() === endedAt.getTime());
  }

  private finalEvent(
    target: StreamTarget,
    stored: Omit<StoredAnswer, 'id' | 'conversation'>,
    end: AnswerEnd,
  ): TerminalEvent {
    const event = doneFromStoredMessage({
      ...stored,
      id: target.messageId,
      conversation: { id: target.conversationId },
    });
    if (event.event === 'chat:error' && end.status === 'failed') {
      event.data.retryable = end.retryable;
      if (end.code) event.data.code = end.code;
    }
    return event;
  }
}
