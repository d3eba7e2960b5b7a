import { p } from '@mikro-orm/core';
import { VectorType } from 'pgvector/mikro-orm';
import { newId } from './ids.ts';

/**
 * Column shapes that several entities share, so each is defined once.
 */

/** Dimension of every stored embedding; the start-up check compares the model against it. */
export const EMBEDDING_DIMENSIONS = 384;

export const idColumn = () =>
  p
    .uuid()
    .primary()
    .onCreate(() => newId());

export const createdAtColumn = () =>
  p
    .datetime()
    .defaultRaw('now()')
    .onCreate(() => new Date());

export const updatedAtColumn = () =>
  p
    .datetime()
    .defaultRaw('now()')
    .onCreate(() => new Date())
    .onUpdate(() => new Date());

export const embeddingColumn = () => p.type(VectorType).$type<number[]>().length(EMBEDDING_DIMENSIONS);

/** A generated, never-written tsvector over `source`; read only in SQL (search), so it stays lazy. */
export const searchVectorColumn = (source: string) =>
  p
    .type('unknown')
    .$type<string>()
    .columnType('tsvector')
    .generated(`(to_tsvector('english'::regconfig, coalesce(${source}, ''))) stored`)
    .lazy()
    .hidden()
    .nullable();

/** Index DDL declared on the entity, so the schema diff keeps them instead of dropping them. */
export const hnswCosineIndex = (table: string, name: string) => ({
  name,
  expression: `create index "${name}" on "${table}" using hnsw ("embedding" vector_cosine_ops) with (m = 16, ef_construction = 64)`,
});
export const ginSearchIndex = (table: string, name: string) => ({
  name,
  expression: `create index "${name}" on "${table}" using gin ("search_vector")`,
});
