import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import {
  dropOwnIndex,
  indexState,
  OWN_INDEX_DROP_BELOW,
  readyChunkCount,
} from '../retrieval/ownVectorIndex.ts';

/** Chunks deleted per statement: each batch is its own short transaction. */
export const CHUNK_DELETE_BATCH = 2_000;

export type ChunkOwner = { documentId: string; userId: string } | { userId: string };

/**
 * Deletes a document's or a user's chunks a batch at a time, before the row whose foreign key
 * would cascade to them. One cascading statement over 100 000 chunks is one long transaction
 * writing ~100 000 heap tuples and their WAL in one go; batches keep every transaction short,
 * and give other users' searches the CPU and disk between them (docs/benchmarks.md, Retrieval).
 * Returns how many chunks it deleted.
 */
export async function deleteChunksInBatches(
  em: EntityManager,
  owner: ChunkOwner,
  batch = CHUNK_DELETE_BATCH,
): Promise<number> {
  const sql = em.fork() as SqlEntityManager;
  const [where, params] =
    'documentId' in owner
      ? ['document_id = ? and user_id = ?', [owner.documentId, owner.userId]]
      : ['user_id = ?', [owner.userId]];
  let total = 0;
  for (;;) {
    const deleted: { id: string }[] = await sql.execute(
      `delete from document_chunks
        where id in (select id from document_chunks where ${where} limit ${Math.trunc(batch)})
        returning id`,
      params,
    );
    total += deleted.length;
    if (deleted.length < batch) return total;
  }
}

/** After a delete: a user left with few chunks loses their own vector index (exact search is cheaper). */
export async function dropOwnIndexIfSmall(
  em: EntityManager,
  userId: string,
  dropBelow = OWN_INDEX_DROP_BELOW,
): Promise<boolean> {
  if ((await readyChunkCount(em, userId)) >= dropBelow) return false;
  // Most users never had one: no DDL for them.
  if ((await indexState(em, userId)) !== 'missing') await dropOwnIndex(em, userId);
  return true;
}

/**
 * Before a user is deleted: their chunks in batches and their own vector index, so the cascade
 * from `users` finds no chunks left to delete in one statement.
 */
export async function deleteUserChunks(em: EntityManager, userId: string): Promise<number> {
  const deleted = await deleteChunksInBatches(em, { userId });
  await dropOwnIndex(em, userId);
  return deleted;
}
