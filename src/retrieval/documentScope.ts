import type { EntityManager } from '@mikro-orm/core';
import { arrayLiteral } from '../db/arrayLiteral.ts';
import type { SearchScope } from './hybridSearch.ts';
import { OWN_INDEX_MIN_CHUNKS, OWN_INDEX_PROBES, readyChunkCount } from './ownVectorIndex.ts';

/**
 * What a question searches: the user's chunks in ready documents (or in the given ones, already
 * checked to be the user's). The "ready" test is written as NOT EXISTS on the chunk's document so
 * the planner estimates the user's rows correctly (an `in (select … where d.user_id = ?)` made it
 * multiply two user filters as if independent). The vector leg is exact for up to
 * `ownIndexFrom` chunks (OWN_INDEX_MIN_CHUNKS), and goes through the user's own IVFFlat index from there.
 */
export async function documentSearchScope(
  em: EntityManager,
  userId: string,
  documentIds: string[] | null,
  ownIndexFrom = OWN_INDEX_MIN_CHUNKS,
): Promise<SearchScope> {
  const chunks = await readyChunkCount(em, userId, documentIds);
  return {
    table: 'document_chunks',
    where: `t.user_id = ?${documentIds ? ' and t.document_id = any(?::uuid[])' : ''} and not exists (
              select 1 from documents d where d.id = t.document_id and d.status <> 'ready')`,
    params: documentIds ? [userId, arrayLiteral(documentIds)] : [userId],
    ...(chunks >= ownIndexFrom ? { vectorPlan: 'index', probes: OWN_INDEX_PROBES } : { vectorPlan: 'exact' }),
  };
}
