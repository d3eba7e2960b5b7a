import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import pgvector from 'pgvector';
import { Document } from '../db/entities/Document.ts';
import { DocumentChunk } from '../db/entities/DocumentChunk.ts';
import { newId } from '../db/ids.ts';
import type { TextChunk } from './chunker.ts';

/** The document being ingested, and its owner (every write is scoped to both). */
export interface IngestTarget {
  userId: string;
  documentId: string;
}

/**
 * Where one document's chunks and ingestion progress are written (its status is DocumentLifecycle's).
 * A write that finds no row, or chunks its foreign key refuses, means the document was deleted
 * meanwhile: the caller stops.
 */
export class ChunkStore {
  private readonly em: EntityManager;
  private readonly target: IngestTarget;

  constructor(em: EntityManager, target: IngestTarget) {
    this.em = em;
    this.target = target;
  }

  /** A previous attempt may have stored part of the chunks; start clean. */
  async clear(): Promise<void> {
    await this.em.nativeDelete(DocumentChunk, { document: this.target.documentId });
  }

  /**
   * One batch in one statement. Returns false when the document is gone (deleted meanwhile):
   * its foreign key refuses the rows, which is exactly "stop".
   */
  async insert(batch: TextChunk[], vectors: number[][]): Promise<boolean> {
    const values: unknown[] = [];
    const rows = batch.map((chunk, index) => {
      values.push(
        newId(),
        this.target.documentId,
        this.target.userId,
        chunk.ordinal,
        chunk.page,
        chunk.content,
        chunk.tokenCount,
        pgvector.toSql(vectors[index]!),
      );
      return '(?, ?, ?, ?, ?, ?, ?, ?::vector)';
    });
    try {
      await (this.em as SqlEntityManager).execute(
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

  /** Saves progress (rounded to 0.1 %) and the chunks stored so far; false when the document is gone. */
  async saveProgress(progress: number, stored: number): Promise<boolean> {
    const updated = await this.em.nativeUpdate(
      Document,
      { id: this.target.documentId, user: this.target.userId },
      { progress: roundProgress(progress), chunkCount: stored },
    );
    return updated > 0;
  }
}

/** Progress as stored and announced: a share of the document, three decimals. */
export const roundProgress = (progress: number) => Number(progress.toFixed(3));

const isForeignKeyViolation = (error: unknown) =>
  error instanceof Error &&
  ((error as { code?: string }).code === '23503' || /foreign key/i.test(error.message));
