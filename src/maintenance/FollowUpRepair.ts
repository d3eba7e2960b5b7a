import type { EntityManager } from '@mikro-orm/core';
import type { Logger } from '../logger.ts';
import { embedJobId, titleJobId } from '../queues/jobs.ts';
import type { Queues } from '../queues/Queues.ts';

/** Rows looked at per run, as the rest of the sweep. */
const BATCH = 200;
/**
 * Answers that completed longer ago than this are left alone: a follow-up is repaired within
 * minutes of Redis coming back, and a job that ran (kept by BullMQ for an hour or a day) and
 * still left no title is not started again every minute.
 */
export const FOLLOW_UP_WINDOW_MS = 3_600_000;

export interface FollowUpCounts {
  titles: number;
  embeddings: number;
}

/**
 * Recreates the follow-up jobs a complete answer should have started when they are neither done
 * nor queued: the conversation's title (no title yet) and the turn's embedding (the answer has no
 * vector). Their enqueue is retried for a while (retryEnqueue), but a worker that stops meanwhile,
 * or an outage longer than the retries, loses them; the minutely stuck-work sweep calls this.
 * A job that exists in any state (waiting, running, failed, completed and kept) is left to itself.
 */
export class FollowUpRepair {
  private readonly queues: Queues;
  private readonly logger: Logger;

  constructor(deps: { queues: Queues; logger: Logger }) {
    this.queues = deps.queues;
    this.logger = deps.logger;
  }

  /** Looks at answers that completed between FOLLOW_UP_WINDOW_MS and `graceMs` ago. */
  async repair(em: EntityManager, graceMs: number, now = Date.now()): Promise<FollowUpCounts> {
    const before = new Date(now - graceMs);
    const since = new Date(now - FOLLOW_UP_WINDOW_MS);
    const counts = {
      titles: await this.titles(em, before, since),
      embeddings: await this.embeddings(em, before, since),
    };
    if (counts.titles + counts.embeddings > 0) this.logger.warn(counts, 'recreated lost follow-up jobs');
    return counts;
  }

  private async titles(em: EntityManager, before: Date, since: Date): Promise<number> {
    const rows: Row[] = await em.getConnection().execute(
      `select c.id, c.user_id from conversations c
          where c.title is null and exists (
            select 1 from messages m where m.conversation_id = c.id and m.role = 'assistant'
              and m.status = 'complete' and m.updated_at < ? and m.updated_at > ?)
          limit ${BATCH}`,
      [before, since],
    );
    return this.recreate(rows, 'chat', titleJobId, (row, jobId) =>
      this.queues.add('chat', 'generate-title', { userId: row.user_id, conversationId: row.id }, { jobId }),
    );
  }

  private async embeddings(em: EntityManager, before: Date, since: Date): Promise<number> {
    const rows: Row[] = await em.getConnection().execute(
      `select id, user_id from messages
          where role = 'assistant' and status = 'complete' and content <> '' and embedding is null
            and updated_at < ? and updated_at > ?
          order by updated_at limit ${BATCH}`,
      [before, since],
    );
    return this.recreate(rows, 'ingest', embedJobId, (row, jobId) =>
      this.queues.add('ingest', 'embed-messages', { userId: row.user_id, messageId: row.id }, { jobId }),
    );
  }

  /** Adds each row's job unless a job of that id exists in any state; how many were added. */
  private async recreate(
    rows: Row[],
    queue: 'chat' | 'ingest',
    jobIdOf: (id: string) => string,
    add: (row: Row, jobId: string) => Promise<unknown>,
  ): Promise<number> {
    let added = 0;
    for (const row of rows) {
      const jobId = jobIdOf(row.id);
      if (await this.queues.get(queue).getJob(jobId)) continue;
      await add(row, jobId);
      added += 1;
    }
    return added;
  }
}

type Row = { id: string; user_id: string };
