import type { Document } from '../../src/db/entities/Document.ts';
import { DocumentFile } from '../../src/db/entities/DocumentFile.ts';
import { untilDatabaseAnswers } from '../../src/db/untilDatabaseAnswers.ts';
import { ChunkStore } from '../../src/ingest/ChunkStore.ts';
import type { ChunkedDocument, IngestPipeline } from '../../src/ingest/IngestPipeline.ts';
import { UnreadableDocumentError } from '../../src/ingest/parseDocument.ts';
import type { Metrics } from '../../src/metrics/Metrics.ts';
import { findOwnDocument } from '../../src/policies/ownership.ts';
import { USER_CANCEL_REASON } from '../../src/queues/cancels.ts';
import type { IngestDocumentPayload } from '../../src/queues/jobs.ts';
import type { DocumentProgress } from '../../src/relay/events.ts';
import { reconcileOwnIndex } from '../../src/retrieval/ownVectorIndex.ts';
import { Task, type TaskContext } from '../Task.ts';

interface IngestDependencies {
  pipeline: IngestPipeline;
  metrics: Metrics;
}

/**
 * Turns an uploaded document into searchable chunks through the IngestPipeline (parse, chunk,
 * embed and store batch by batch; src/ingest/) and reports progress to the owner's sockets. An
 * unreadable file ends `failed` at once with a reason the user understands; anything else is
 * thrown so BullMQ retries with backoff, and the last failure ends the document `failed`.
 * Deleting the document stops the job (abort signal) and its rows go with it (foreign keys cascade).
 */
export class IngestDocumentTask extends Task<IngestDocumentPayload> {
  private readonly deps: IngestDependencies;

  constructor(deps: IngestDependencies) {
    super();
    this.deps = deps;
  }

  async perform(payload: IngestDocumentPayload, context: TaskContext) {
    const { em, signal, logger } = context;
    const document = await findOwnDocument(em, payload.userId, payload.documentId);
    if (!document) return { outcome: 'deleted' };
    if (document.status === 'ready') return { outcome: 'ready', chunkCount: document.chunkCount };

    const startedAt = performance.now();
    const store = new ChunkStore(em, payload);
    await this.update(context, document, { status: 'processing', progress: 0, chunkCount: 0, error: null });
    await store.clear();

    const file = await em.findOne(DocumentFile, { document: document.id }, { populate: ['bytes'] });
    if (!file) return { outcome: 'deleted' };
    let chunked: ChunkedDocument;
    try {
      chunked = await this.deps.pipeline.chunk(new Uint8Array(file.bytes), document.mime);
    } catch (error) {
      if (!(error instanceof UnreadableDocumentError)) throw error;
      logger.info({ documentId: document.id, reason: error.reason }, 'document unreadable');
      await this.update(context, document, { status: 'failed', error: error.message });
      return { outcome: 'failed', reason: error.reason };
    }
    em.clear(); // the bytes can be several MB: let them go before the long part

    const { chunks, pageCount } = chunked;
    const result = await this.deps.pipeline.store(chunks, store, {
      signal,
      onProgress: (saved) => this.announce(context, payload, { status: 'processing', ...saved }),
    });
    if (result.outcome === 'aborted') return this.stopped(signal, result.stored);
    if (result.outcome === 'deleted') return result;

    const seconds = (performance.now() - startedAt) / 1000;
    if (!(await store.markReady(chunks.length, pageCount))) return { outcome: 'deleted' };
    this.announce(context, payload, { status: 'ready', progress: 1, chunkCount: chunks.length });
    if (chunks.length > 0) this.deps.metrics.ingestChunksPerSecond.observe(chunks.length / seconds);
    logger.info(
      { documentId: payload.documentId, chunks: chunks.length, seconds: Number(seconds.toFixed(2)) },
      'document ready',
    );
    // A user who now has many chunks gets a vector index of their own (built concurrently; until
    // it exists their search is exact, only slower).
    await reconcileOwnIndex(em, payload.userId).catch((error: Error) =>
      logger.warn({ userId: payload.userId, err: error.message }, 'own vector index not reconciled'),
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
    const updated = await untilDatabaseAnswers(() => new ChunkStore(em, payload).markFailed(message), {
      logger,
      what: `failing document ${payload.documentId}`,
    });
    if (updated > 0) this.announce(context, payload, { status: 'failed', progress: 0, error: message });
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
    { notify }: Pick<TaskContext, 'notify'>,
    payload: IngestDocumentPayload,
    event: Omit<DocumentProgress, 'documentId'>,
  ) {
    notify.user(payload.userId, 'document:progress', { documentId: payload.documentId, ...event });
  }
}
