import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { arrayLiteral } from '../db/arrayLiteral.ts';
import type { Embedder } from '../embeddings/Embedder.ts';
import { documentSearchScope } from './documentScope.ts';
import { hybridSearch } from './hybridSearch.ts';
import { snippetOf } from './snippet.ts';

export interface Passage {
  chunkId: string;
  documentId: string;
  filename: string;
  page: number | null;
  content: string;
  snippet: string;
  score: number;
  similarity: number | null;
}

export interface RetrievalRequest {
  userId: string;
  /** Only these documents (already checked to be the user's); null → all the user's ready ones. */
  documentIds: string[] | null;
  question: string;
  topK: number;
}

/** A passage found by words must contain at least this share of the question's words. */
const MIN_WORD_COVERAGE = 0.5;

/**
 * Finds the passages of a user's ready documents that answer a question: hybrid search over
 * their chunks, then drops hits that neither share half the question's words nor are
 * semantically close (cosine ≥ `minSimilarity`), so "nothing relevant" is a real outcome instead of the k nearest
 * strangers.
 */
export class DocumentRetriever {
  private readonly embedder: Embedder;
  private readonly minSimilarity: number;

  constructor(embedder: Embedder, minSimilarity: number) {
    this.embedder = embedder;
    this.minSimilarity = minSimilarity;
  }

  async retrieve(em: EntityManager, request: RetrievalRequest): Promise<Passage[]> {
    if (request.documentIds?.length === 0) return [];
    const [[vector], scope] = await Promise.all([
      this.embedder.embed([request.question]),
      documentSearchScope(em.fork(), request.userId, request.documentIds),
    ]);
    const hits = await hybridSearch(em, scope, {
      vector,
      text: request.question,
      words: 'any',
      minCoverage: MIN_WORD_COVERAGE,
      limit: request.topK,
    });
    const relevant = hits.filter(
      (hit) => hit.wordCoverage >= MIN_WORD_COVERAGE || (hit.similarity ?? -1) >= this.minSimilarity,
    );
    if (relevant.length === 0) return [];

    const rows: {
      id: string;
      document_id: string;
      page: number | null;
      content: string;
      filename: string;
    }[] = await (em as SqlEntityManager).execute(
      `select c.id, c.document_id, c.page, c.content, d.filename
           from document_chunks c join documents d on d.id = c.document_id
          where c.id = any(?::uuid[]) and c.user_id = ?`,
      [arrayLiteral(relevant.map((hit) => hit.id)), request.userId],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return relevant.flatMap((hit) => {
      const row = byId.get(hit.id);
      if (!row) return []; // deleted between the two queries
      return [
        {
          chunkId: row.id,
          documentId: row.document_id,
          filename: row.filename,
          page: row.page,
          content: row.content,
          snippet: snippetOf(row.content, request.question),
          score: hit.score,
          similarity: hit.similarity,
        },
      ];
    });
  }
}
