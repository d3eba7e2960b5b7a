import type { EntityManager } from '@mikro-orm/core';
import type { AnswerLifecycle } from '../answers/AnswerLifecycle.ts';
import type { QueueName } from '../config.ts';
import { DocumentLifecycle } from '../ingest/DocumentLifecycle.ts';
import type { Logger } from '../logger.ts';
import { ingestJobId, replyJobId } from '../queues/jobs.ts';
import type { Queues } from '../queues/Queues.ts';
import type { Notifier } from '../relay/Notifier.ts';

/** Rows looked at per run: a run stays short however much piled up (the next run takes the rest). */
const BATCH = 500;
/** Job states that will never touch the row again. */
const ENDED_JOB_STATES = new Set(['missing', 'failed', 'completed', 'unknown']);

export const LOST_ANSWER_REASON = 'The answer was lost (its job ended without finishing it); regenerate it.';
export const LOST_DOCUMENT_REASON = 'Processing stopped unexpectedly; upload the document again.';

export interface SweepCounts {
  messages: number;
  documents: number;
}

export interface StuckWorkSweeperDeps {
  queues: Queues;
  /** How answers end. */
  ending: AnswerLifecycle;
  /** How documents end; by default one that tells owners through `notify`. */
  documents?: DocumentLifecycle;
  notify: Notifier;
  logger: Logger;
}

/**
 * Ends work that nothing will finish any more: answers `pending`/`streaming` and documents
 * `queued`/`processing` whose job (same id as the row) is gone, failed or completed, and that
 * have not changed for `graceMs`. That happens when the job's own ending could not reach the
 * database (an outage longer than its retries) or its worker died while ending it. Answers end
 * through AnswerLifecycle, so their tabs get chat:error; documents through DocumentLifecycle, so
 * their owners see `failed`.
 */
export class StuckWorkSweeper {
  private readonly deps: StuckWorkSweeperDeps;
  private readonly documents: DocumentLifecycle;

  constructor(deps: StuckWorkSweeperDeps) {
    this.deps = deps;
    this.documents = deps.documents ?? new DocumentLifecycle({ notify: deps.notify, logger: deps.logger });
  }

  async sweep(em: EntityManager, graceMs: number): Promise<SweepCounts> {
    const before = new Date(Date.now() - graceMs);
    return {
      messages: await this.endLostAnswers(em, before),
      documents: await this.failLostDocuments(em, before),
    };
  }

  private async endLostAnswers(em: EntityManager, before: Date): Promise<number> {
    const rows: { id: string; user_id: string; conversation_id: string }[] = await em.getConnection().execute(
      `select id, user_id, conversation_id from messages
          where status in ('pending', 'streaming') and role = 'assistant' and updated_at < ?
          order by updated_at limit ${BATCH}`,
      [before],
    );
    let ended = 0;
    for (const row of rows) {
      if (!(await this.jobEnded('chat', replyJobId(row.id)))) continue;
      const target = { userId: row.user_id, conversationId: row.conversation_id, messageId: row.id };
      if (await this.deps.ending.interrupt(target, LOST_ANSWER_REASON, { maxWaitMs: 0 })) ended += 1;
    }
    if (ended > 0) this.deps.logger.warn({ ended }, 'ended answers whose job could not finish them');
    return ended;
  }

  private async failLostDocuments(em: EntityManager, before: Date): Promise<number> {
    const rows: { id: string; user_id: string }[] = await em.getConnection().execute(
      `select id, user_id from documents
          where status in ('queued', 'processing') and updated_at < ?
          order by updated_at limit ${BATCH}`,
      [before],
    );
    let failed = 0;
    for (const row of rows) {
      if (!(await this.jobEnded('ingest', ingestJobId(row.id)))) continue;
      const target = { userId: row.user_id, documentId: row.id };
      if (await this.documents.fail(em, target, LOST_DOCUMENT_REASON, { maxWaitMs: 0 })) failed += 1;
    }
    if (failed > 0) this.deps.logger.warn({ failed }, 'failed documents whose job could not finish them');
    return failed;
  }

  private async jobEnded(queue: QueueName, jobId: string): Promise<boolean> {
    const job = await this.deps.queues.get(queue).getJob(jobId);
    return ENDED_JOB_STATES.has(job ? await job.getState() : 'missing');
  }
}
