import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import pgvector from 'pgvector';
import { USER_CANCEL_REASON } from '../../src/chat/cancellation.ts';
import type { Config } from '../../src/config.ts';
import { Document } from '../../src/db/entities/Document.ts';
import { DocumentChunk } from '../../src/db/entities/DocumentChunk.ts';
import { DocumentFile } from '../../src/db/entities/DocumentFile.ts';
import { newId } from '../../src/db/ids.ts';
import { untilDatabaseAnswers } from '../../src/db/untilDatabaseAnswers.ts';
import type { Embedder } from '../../src/embeddings/Embedder.ts';
import { chunkDocument, type TextChunk } from '../../src/ingest/chunker.ts';
import { DOCUMENT_MIME, type DocumentKind } from '../../src/ingest/documentKind.ts';
import { parseDocument, UnreadableDocumentError } from '../../src/ingest/parseDocument.ts';
import type { Metrics } from '../../src/metrics/Metrics.ts';
import type { IngestDocumentPayload } from '../../src/queues/jobs.ts';
import type { DocumentProgress } from '../../src/realtime/events.ts';
import { userRoom } from '../../src/realtime/events.ts';
import { Task, type TaskContext } from '../Task.ts';

/** Progress is written and announced at most this often (in share of the document). */
const PROGRESS_STEP = 0.05;

interface IngestDependencies {
  config: Config;
  embedder: Embedder;
  metrics: Metrics;
}

/**
 * Turns an uploaded document into searchable chunks: parse (pages kept), chunk to the
 * embedding model's window, embed batch by batch on the embedder's threads, store each batch,
 * report progress to the owner's sockets. An unreadable file ends `failed` at once with a
 * reason the user understands; anything else is thrown so BullMQ retries with backoff, and the
 * last failure ends the document `failed`. Deleting the document stops the job (abort signal)
 * and its rows go with it (foreign keys cascade).
 */
export class IngestDocumentTask extends Task<IngestDocumentPayload> {
  private readonly deps: IngestDependencies;

  constructor(deps: IngestDependencies) {
    super();
    this.deps = deps;
  }

  async perform(payload: IngestDocumentPayload, context: TaskContext) {
    const { em, signal, logger } = context;
    const document = await em.findOne(Document, { id: payload.documentId, user: payload.userId });
    if (!document) return { outcome: 'deleted' };
    if (document.status === 'ready') return { outcome: 'ready', chunkCount: document.chunkCount };

    const startedAt = performance.now();
    await this.update(context, document, { status: 'processing', progress: 0, chunkCount: 0, error: null });
    // A previous attempt may have stored part of the chunks; start clean.
    await em.nativeDelete(DocumentChunk, { document: document.id });

    const file = await em.findOne(DocumentFile, { document: document.id }, { populate: ['bytes'] });
    if (!file) return { outcome: 'deleted' };
    let chunks: TextChunk[];
    try {
      const parsed = await parseDocument(new Uint8Array(file.bytes), kindOf(document.mime));
      document.pageCount = parsed.pageCount;
      await this.deps.embedder.ready();
      chunks = chunkDocument(parsed, {
        maxTokens: this.deps.config.chunking.tokens,
        overlap: this.deps.config.chunking.overlap,
        countTokens: (text) => this.deps.embedder.countTokens(text),
      });
    } catch (error) {
      if (!(error instanceof UnreadableDocumentError)) throw error;
      logger.info({ documentId: document.id, reason: error.reason }, 'document unreadable');
      await this.update(context, document, { status: 'failed', error: error.message });
      return { outcome: 'failed', reason: error.reason };
    }
    em.clear(); // the bytes can be several MB: let them go before the long part

    const { batchSize, threads } = this.deps.config.embeddings;
    const batches: TextChunk[][] = [];
    for (let start = 0; start < chunks.length; start += batchSize)
      batches.push(chunks.slice(start, start + batchSize));
    // Keep every embedder thread busy: while one batch is stored, the next `threads` are embedded.
    const embedding: Promise<number[][]>[] = [];
    let queued = 0;
    const embedNext = () => {
      const vectors = this.deps.embedder.embed(batches[queued++]!.map((chunk) => chunk.content));
      vectors.catch(() => {}); // awaited below; if the job stops first, nobody is left to hear it
      embedding.push(vectors);
    };
    while (queued < batches.length && embedding.length < Math.max(1, threads)) embedNext();

    let stored = 0;
    let reported = 0;
    for (const batch of batches) {
      if (signal.aborted) return this.stopped(signal, stored);
      const vectors = await embedding.shift()!;
      if (queued < batches.length) embedNext();
      if (signal.aborted) return this.stopped(signal, stored);
      const inserted = await this.insertChunks(em, payload, batch, vectors);
      if (!inserted) return { outcome: 'deleted', stored };
      stored += batch.length;
      const progress = stored / chunks.length;
      if (progress - reported >= PROGRESS_STEP && stored < chunks.length) {
        reported = progress;
        if (!(await this.saveProgress(context, payload, progress, stored))) return { outcome: 'deleted' };
      }
    }

    const seconds = (performance.now() - startedAt) / 1000;
    const finished = await em.nativeUpdate(
      Document,
      { id: payload.documentId, user: payload.userId },
      { status: 'ready', progress: 1, chunkCount: chunks.length, pageCount: document.pageCount, error: null },
    );
    if (finished === 0) return { outcome: 'deleted' };
    this.announce(context, payload, { status: 'ready', progress: 1, chunkCount: chunks.length });
    if (chunks.length > 0) this.deps.metrics.ingestChunksPerSecond.observe(chunks.length / seconds);
    logger.info(
      { documentId: payload.documentId, chunks: chunks.length, seconds: Number(seconds.toFixed(2)) },
      'document ready',
    );
    return { outcome: 'ready', chunkCount: chunks.length };
  }

  /** Deleted by its owner: done. Any other abort (a forced shutdown) hands the job back for a retry. */
  private stopped(signal: AbortSignal, stored: number) {
    if (signal.reason !== USER_CANCEL_REASON)
      throw new Error('ingestion was interrupted; it will be retried');
    return { outcome: 'stopped', stored };
  }

  /** The last attempt failed: the document ends `failed` with a reason, its partial chunks removed. */
  override async onFailed(
    payload: IngestDocumentPayload,
    error: Error,
    context: Omit<TaskContext, 'signal'>,
  ) {
    const { em, logger } = context;
    const message = 'The document could not be processed. Try uploading it again later.';
    logger.warn({ documentId: payload.documentId, err: error.message }, 'document failed');
    // Often the database itself is why the job failed: the ending waits until it is back.
    const updated = await untilDatabaseAnswers(
      () =>
        em.fork().transactional(async (tx) => {
          await tx.nativeDelete(DocumentChunk, { document: payload.documentId, user: payload.userId });
          return tx.nativeUpdate(
            Document,
            { id: payload.documentId, user: payload.userId, status: { $in: ['queued', 'processing'] } },
            { status: 'failed', error: message },
          );
        }),
      { logger, what: `failing document ${payload.documentId}` },
    );
    if (updated > 0) this.announce(context, payload, { status: 'failed', progress: 0, error: message });
  }

  /**
   * One batch in one statement. Returns false when the document is gone (deleted meanwhile):
   * its foreign key refuses the rows, which is exactly "stop".
   */
  private async insertChunks(
    em: EntityManager,
    payload: IngestDocumentPayload,
    batch: TextChunk[],
    vectors: number[][],
  ): Promise<boolean> {
    const values: unknown[] = [];
    const rows = batch.map((chunk, index) => {
      values.push(
        newId(),
        payload.documentId,
        payload.userId,
        chunk.ordinal,
        chunk.page,
        chunk.content,
        chunk.tokenCount,
        pgvector.toSql(vectors[index]!),
      );
      return '(?, ?, ?, ?, ?, ?, ?, ?::vector)';
    });
    try {
      await (em as SqlEntityManager).execute(
        `insert into document_chunks (id, document_id, user_id, ordinal, page, content, token_count, embedding)
         values ${rows.join(', ')}`,
        values,
        'run',
      );
      return true;
    } catch (error) {
      if (isForeignKeyViolation(error)) return false;
      throw error;
    }
  }

  private async saveProgress(
    context: TaskContext,
    payload: IngestDocumentPayload,
    progress: number,
    stored: number,
  ): Promise<boolean> {
    const rounded = Number(progress.toFixed(3));
    const updated = await context.em.nativeUpdate(
      Document,
      { id: payload.documentId, user: payload.userId },
      { progress: rounded, chunkCount: stored },
    );
    if (updated > 0)
      this.announce(context, payload, { status: 'processing', progress: rounded, chunkCount: stored });
    return updated > 0;
  }

  private async update(
    context: TaskContext,
    document: Document,
    changes: Partial<Pick<Document, 'status' | 'progress' | 'chunkCount' | 'error'>>,
  ) {
    Object.assign(document, changes);
    await context.em.flush();
    this.announce(
      context,
      { userId: document.user.id, documentId: document.id },
      {
        status: document.status,
        progress: Number(document.progress),
        chunkCount: document.chunkCount,
        ...(document.error ? { error: document.error } : {}),
      },
    );
  }

  private announce(
    { emitter }: Pick<TaskContext, 'emitter'>,
    payload: IngestDocumentPayload,
    event: Omit<DocumentProgress, 'documentId'>,
  ) {
    emitter
      .to(userRoom(payload.userId))
      .emit('document:progress', { documentId: payload.documentId, ...event });
  }
}

const kindOf = (mime: string): DocumentKind =>
  (Object.entries(DOCUMENT_MIME).find(([, known]) => known === mime)?.[0] as DocumentKind | undefined) ??
  'text';

const isForeignKeyViolation = (error: unknown) =>
  error instanceof Error &&
  ((error as { code?: string }).code === '23503' || /foreign key/i.test(error.message));
