import type { Config } from '../config.ts';
import type { Embedder } from '../embeddings/Embedder.ts';
import { type ChunkStore, roundProgress } from './ChunkStore.ts';
import { chunkDocument, type TextChunk } from './chunker.ts';
import { DOCUMENT_MIME, type DocumentKind } from './documentKind.ts';
import { parseDocument } from './parseDocument.ts';

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
   * Parses and chunks a document. Throws UnreadableDocumentError when the file can never yield
   * text; other errors may be transient.
   */
  async chunk(bytes: Uint8Array, mime: string): Promise<ChunkedDocument> {
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
  async store(
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
