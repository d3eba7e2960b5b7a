import type { EntityManager } from '@mikro-orm/core';
import { Document } from '../db/entities/Document.ts';
import { DocumentChunk } from '../db/entities/DocumentChunk.ts';
import { untilDatabaseAnswers } from '../db/untilDatabaseAnswers.ts';
import type { Logger } from '../logger.ts';
import type { DocumentProgress } from '../relay/events.ts';
import type { Notifier } from '../relay/Notifier.ts';
import type { IngestTarget } from './ChunkStore.ts';

const UNFINISHED: Document['status'][] = ['queued', 'processing'];

/** How long a failing write may wait for the database, and what stops the wait. */
export interface Wait {
  signal?: AbortSignal;
  maxWaitMs?: number;
}

/**
 * The one place where a document's status changes (processing, then ready or failed) and its
 * owner's tabs are told (document:progress through the Notifier). The ingest job, its last failed
 * attempt and the stuck-work sweeper all end documents here, so a failed document always loses its
 * partial chunks in the same transaction, and only the ender that changed the row announces it.
 * Each status change stamps `updatedAt` (these are native updates: the entity's hook doesn't run).
 */
export class DocumentLifecycle {
  private readonly deps: { notify: Notifier; logger: Logger };

  constructor(deps: { notify: Notifier; logger: Logger }) {
    this.deps = deps;
  }

  /** An attempt starts from nothing: `processing`, no progress. False when the document is gone. */
  async start(em: EntityManager, target: IngestTarget): Promise<boolean> {
    const updated = await em.nativeUpdate(Document, owned(target), {
      status: 'processing',
      progress: 0,
      chunkCount: 0,
      error: null,
      updatedAt: new Date(),
    });
    if (updated > 0) this.announce(target, { status: 'processing', progress: 0, chunkCount: 0 });
    return updated > 0;
  }

  /** Some chunks are stored (the ChunkStore saved the progress): the owner sees it move. */
  progress(target: IngestTarget, saved: { progress: number; chunkCount: number }): void {
    this.announce(target, { status: 'processing', ...saved });
  }

  /** Every chunk is stored: the document is `ready`. False when it was deleted meanwhile. */
  async ready(
    em: EntityManager,
    target: IngestTarget,
    facts: { chunkCount: number; pageCount: number | null | undefined },
  ): Promise<boolean> {
    const updated = await em.nativeUpdate(Document, owned(target), {
      status: 'ready',
      progress: 1,
      error: null,
      ...facts,
      updatedAt: new Date(),
    });
    if (updated > 0) this.announce(target, { status: 'ready', progress: 1, chunkCount: facts.chunkCount });
    return updated > 0;
  }

  /**
   * Ends an unfinished document `failed` with `reason` (words for the user), its partial chunks
   * removed, in one transaction; a database outage is waited out (up to `wait.maxWaitMs`). False
   * when nothing changed: the document was deleted, or has already ended.
   */
  async fail(em: EntityManager, target: IngestTarget, reason: string, wait: Wait = {}): Promise<boolean> {
    const updated = await untilDatabaseAnswers(
      () =>
        em.fork().transactional(async (tx) => {
          const count = await tx.nativeUpdate(
            Document,
            { ...owned(target), status: { $in: UNFINISHED } },
            { status: 'failed', error: reason, updatedAt: new Date() },
          );
          // Half-stored chunks would otherwise answer searches for a document that failed.
          if (count > 0) await tx.nativeDelete(DocumentChunk, { document: target.documentId });
          return count;
        }),
      { ...wait, logger: this.deps.logger, what: `failing document ${target.documentId}` },
    );
    if (updated > 0) this.announce(target, { status: 'failed', progress: 0, error: reason });
    return updated > 0;
  }

  private announce(target: IngestTarget, event: Omit<DocumentProgress, 'documentId'>): void {
    this.deps.notify.user(target.userId, 'document:progress', { documentId: target.documentId, ...event });
  }
}

const owned = ({ documentId, userId }: IngestTarget) => ({ id: documentId, user: userId });
