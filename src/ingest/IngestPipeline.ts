import type { EntityManager } from '@mikro-orm/core';
import type { Config } from '../config.ts';
import { DocumentFile } from '../db/entities/DocumentFile.ts';
import type { Embedder } from '../embeddings/Embedder.ts';
import type { Logger } from '../logger.ts';
import { findOwnDocument } from '../policies/ownership.ts';
import { reconcileOwnIndex } from '../retrieval/ownVectorIndex.ts';
import { ChunkStore, type IngestTarget, roundProgress } from './ChunkStore.ts';
import { chunkDocument, type TextChunk } from './chunker.ts';
import type { DocumentLifecycle } from './DocumentLifecycle.ts';
import { DOCUMENT_MIME, type DocumentKind } from './documentKind.ts';
import { parseDocument } from './parseDocument.ts';
import { UnreadableDocumentError } from './UnreadableDocumentError.ts';

/** Progress is written and announced at most this often (in share of the document). */
const PROGRESS_STEP = 0.05;

/** A document's text cut to the embedding model's window, pages kept. */
export interface ChunkedDocument {
  chunks: TextChunk[];
  pageCount: number | null;
}

/**
 * How storing ended: every chunk `stored`; `deleted` when the document went away meanwhile (with
 * the chunks stored when a batch was refused); `aborted` when the signal fired between batches.
 */
export type StoreOutcome =
  | { outcome: 'stored' }
  | { outcome: 'deleted'; stored?: number }
  | { outcome: 'aborted'; stored: number };

/**
 * How one attempt at a document ended: `ready` (with how long embedding and storing took),
 * `failed` for a file that can never yield text, `deleted` when the document went away, `aborted`
 * when the signal fired between batches (the caller decides whether that is a retry).
 */
export type IngestOutcome =
  | { outcome: 'ready'; chunkCount: number; seconds?: number }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'deleted'; stored?: number }
  | { outcome: 'aborted'; stored: number };

/** What one attempt works with: its entity manager, its stop signal, its log, the document's ending. */
export interface IngestRun {
  em: EntityManager;
  signal: AbortSignal;
  logger: Logger;
  documents: DocumentLifecycle;
}

export interface StoreOptions {
  signal: AbortSignal;
  /** Called after each saved progress step (not for the last batch: the document is then ready). */
  onProgress?: (saved: { progress: number; chunkCount: number }) => void;
}

/**
 * From an upload's bytes to stored chunks: parse (pages kept), chunk to the embedding model's
 * window, then embed batch by batch on the embedder's threads and store each batch, keeping every
 * thread busy: while one batch is stored, the next `threads` are embedded.
 */
export class IngestPipeline {
  private readonly embedder: Embedder;
  private readonly chunking: Config['chunking'];
  private readonly batchSize: number;
  private readonly threads: number;

  constructor(deps: {
    embedder: Embedder;
    chunking: Config['chunking'];
    embeddings: Pick<Config['embeddings'], 'batchSize' | 'threads'>;
  }) {
    this.embedder = deps.embedder;
    this.chunking = deps.chunking;
    this.batchSize = deps.embeddings.batchSize;
    this.threads = deps.embeddings.threads;
  }

  /**
   * One attempt at an uploaded document, start to end: `processing` with its old chunks cleared,
   * parsed and chunked (an unreadable file ends `failed` at once), then stored batch by batch
   * with progress, then `ready`. Other errors are thrown: they may be transient (the caller retries).
   */
  async ingest(target: IngestTarget, run: IngestRun): Promise<IngestOutcome> {
    const { em, signal, logger, documents } = run;
    const document = await findOwnDocument(em, target.userId, target.documentId);
    if (!document) return { outcome: 'deleted' };
    if (document.status === 'ready') return { outcome: 'ready', chunkCount: document.chunkCount };

    const startedAt = performance.now();
    const store = new ChunkStore(em, target);
    if (!(await documents.start(em, target))) return { outcome: 'deleted' };
    await store.clear();

    const file = await em.findOne(DocumentFile, { document: document.id }, { populate: ['bytes'] });
    if (!file) return { outcome: 'deleted' };
    let chunked: ChunkedDocument;
    try {
      chunked = await this.chunk(new Uint8Array(file.bytes), document.mime);
    } catch (error) {
      if (!(error instanceof UnreadableDocumentError)) throw error;
      logger.info({ documentId: document.id, reason: error.reason }, 'document unreadable');
      await documents.fail(em, target, error.message, { maxWaitMs: 0 });
      return { outcome: 'failed', reason: error.reason };
    }
    em.clear(); // the bytes can be several MB: let them go before the long part

    const { chunks, pageCount } = chunked;
    const result = await this.store(chunks, store, {
      signal,
      onProgress: (saved) => documents.progress(target, saved),
    });
    if (result.outcome !== 'stored') return result;

    const seconds = (performance.now() - startedAt) / 1000;
    if (!(await documents.ready(em, target, { chunkCount: chunks.length, pageCount })))
      return { outcome: 'deleted' };
    logger.info(
      { documentId: target.documentId, chunks: chunks.length, seconds: Number(seconds.toFixed(2)) },
      'document ready',
    );
    // A user who now has many chunks gets a vector index of their own (built concurrently; until
    // it exists their search is exact, only slower).
    await reconcileOwnIndex(em, target.userId).catch((error: Error) =>
      logger.warn({ userId: target.userId, err: error.message }, 'own vector index not reconciled'),
    );
    return { outcome: 'ready', chunkCount: chunks.length, seconds };
  }

  /**
   * Parses and chunks a document. Throws UnreadableDocumentError when the file can never yield
   * text; other errors may be transient.
   */
  private async chunk(bytes: Uint8Array, mime: string): Promise<ChunkedDocument> {
    const parsed = await parseDocument(bytes, kindOf(mime));
    await this.embedder.ready();
    const chunks = chunkDocument(parsed, {
      maxTokens: this.chunking.tokens,
      overlap: this.chunking.overlap,
      countTokens: (text) => this.embedder.countTokens(text),
    });
    return { chunks, pageCount: parsed.pageCount };
  }

  /** Embeds and stores `chunks` in order, saving progress every PROGRESS_STEP of the document. */
  private async store(
    chunks: TextChunk[],
    store: ChunkStore,
    { signal, onProgress }: StoreOptions,
  ): Promise<StoreOutcome> {
    const batches: TextChunk[][] = [];
    for (let start = 0; start < chunks.length; start += this.batchSize)
      batches.push(chunks.slice(start, start + this.batchSize));
    const embedding: Promise<number[][]>[] = [];
    let queued = 0;
    const embedNext = () => {
      const vectors = this.embedder.embed(batches[queued++]!.map((chunk) => chunk.content));
      vectors.catch(() => {}); // awaited below; if storing stops first, nobody is left to hear it
      embedding.push(vectors);
    };
    while (queued < batches.length && embedding.length < Math.max(1, this.threads)) embedNext();

    let stored = 0;
    let reported = 0;
    for (const batch of batches) {
      if (signal.aborted) return { outcome: 'aborted', stored };
      const vectors = await embedding.shift()!;
      if (queued < batches.length) embedNext();
      if (signal.aborted) return { outcome: 'aborted', stored };
      if (!(await store.insert(batch, vectors))) return { outcome: 'deleted', stored };
      stored += batch.length;
      const progress = stored / chunks.length;
      if (progress - reported >= PROGRESS_STEP && stored < chunks.length) {
        reported = progress;
        if (!(await store.saveProgress(progress, stored))) return { outcome: 'deleted' };
        onProgress?.({ progress: roundProgress(progress), chunkCount: stored });
      }
    }
    return { outcome: 'stored' };
  }
}

const kindOf = (mime: string): DocumentKind =>
  (Object.entries(DOCUMENT_MIME).find(([, known]) => known === mime)?.[0] as DocumentKind | undefined) ??
  'text';
