import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { arrayLiteral } from '../db/arrayLiteral.ts';
import type { Embedder } from '../embeddings/Embedder.ts';
import type { Logger } from '../logger.ts';
import { hybridSearch } from './hybridSearch.ts';
import { snippetOf } from './snippet.ts';

export interface HistoryHit {
  messageId: string;
  conversationId: string;
  conversationTitle: string | null;
  role: 'user' | 'assistant';
  snippet: string;
  createdAt: Date;
  score: number;
}

export interface HistoryResults {
  items: HistoryHit[];
  /** `text` when the embedding model could not be used: full-text results only. */
  mode: 'hybrid' | 'text';
}

/**
 * Search over a user's own finished messages: the same hybrid search as documents, with the
 * query embedded on the embedder's worker thread (never on the event loop). Messages not yet
 * embedded are still found by their words.
 */
export class HistorySearch {
  private readonly embedder: Embedder;
  private readonly logger: Logger;
  private readonly minSimilarity: number;

  constructor(embedder: Embedder, logger: Logger, minSimilarity: number) {
    this.embedder = embedder;
    this.logger = logger;
    this.minSimilarity = minSimilarity;
  }

  async search(em: EntityManager, userId: string, query: string, limit: number): Promise<HistoryResults> {
    let vector: number[] | undefined;
    try {
      [vector] = await this.embedder.embed([query]);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'search falls back to full text');
    }
    const hits = await hybridSearch(
      em,
      {
        table: 'messages',
        where: `t.user_id = ? and t.status = 'complete' and t.role in ('user', 'assistant')`,
        params: [userId],
      },
      { vector, text: query, words: 'all', limit },
    );
    // Nearest neighbours always exist: one found only by meaning must be close enough to count.
    const relevant = hits.filter(
      (hit) => hit.wordCoverage > 0 || (hit.similarity ?? -1) >= this.minSimilarity,
    );
    if (relevant.length === 0) return { items: [], mode: vector ? 'hybrid' : 'text' };
    const rows: {
      id: string;
      conversation_id: string;
      title: string | null;
      role: 'user' | 'assistant';
      content: string;
      created_at: Date;
    }[] = await (em as SqlEntityManager).execute(
      `select m.id, m.conversation_id, c.title, m.role, m.content, m.created_at
         from messages m join conversations c on c.id = m.conversation_id
        where m.id = any(?::uuid[]) and m.user_id = ?`,
      [arrayLiteral(relevant.map((hit) => hit.id)), userId],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const items = relevant.flatMap((hit) => {
      const row = byId.get(hit.id);
      return row
        ? [
            {
              messageId: row.id,
              conversationId: row.conversation_id,
              conversationTitle: row.title,
              role: row.role,
              snippet: snippetOf(row.content, query),
              createdAt: new Date(row.created_at),
              score: Number(hit.score.toFixed(6)),
            },
          ]
        : [];
    });
    return { items, mode: vector ? 'hybrid' : 'text' };
  }
}
