import { DocumentLifecycle } from '../../src/ingest/DocumentLifecycle.ts';
import type { IngestPipeline } from '../../src/ingest/IngestPipeline.ts';
import type { Metrics } from '../../src/metrics/Metrics.ts';
import { USER_CANCEL_REASON } from '../../src/queues/cancels.ts';
import type { IngestDocumentPayload } from '../../src/queues/jobs.ts';
import { Task, type TaskContext } from '../Task.ts';

interface IngestDependencies {
  pipeline: IngestPipeline;
  metrics: Metrics;
}

const DOCUMENT_FAILED_REASON = 'The document could not be processed. Try uploading it again later.';

/**
 * The ingest-document job: one attempt is the IngestPipeline's (src/ingest/), which ends an
 * unreadable file `failed` at once and throws anything else, so BullMQ retries with backoff
 * (src/queues/jobs.ts); the last failure ends the document `failed` through DocumentLifecycle.
 * Deleting the document stops the job (abort signal) and its rows go with it (foreign keys cascade).
 */
export class IngestDocumentTask extends Task<IngestDocumentPayload> {
  private readonly deps: IngestDependencies;

  constructor(deps: IngestDependencies) {
    super();
    this.deps = deps;
  }

  async perform(payload: IngestDocumentPayload, { em, signal, logger, notify }: TaskContext) {
    const documents = new DocumentLifecycle({ notify, logger });
    const result = await this.deps.pipeline.ingest(payload, { em, signal, logger, documents });
    if (result.outcome === 'aborted') {
      // Deleted by its owner: done. Any other abort (a forced shutdown) hands the job back for a retry.
      if (signal.reason !== USER_CANCEL_REASON)
        throw new Error('ingestion was interrupted; it will be retried');
      return { outcome: 'stopped', stored: result.stored };
    }
    if (result.outcome !== 'ready') return result;
    const { chunkCount, seconds } = result;
    if (seconds !== undefined && chunkCount > 0)
      this.deps.metrics.ingestChunksPerSecond.observe(chunkCount / seconds);
    return { outcome: 'ready', chunkCount };
  }

  /** The last attempt failed: the document ends `failed` with a reason, its partial chunks removed. */
  override async onFailed(
    payload: IngestDocumentPayload,
    error: Error,
    { em, logger, notify }: Omit<TaskContext, 'signal'>,
  ) {
    logger.warn({ documentId: payload.documentId, err: error.message }, 'document failed');
    // Often the database itself is why the job failed: the ending waits until it is back.
    await new DocumentLifecycle({ notify, logger }).fail(em, payload, DOCUMENT_FAILED_REASON);
  }
}
