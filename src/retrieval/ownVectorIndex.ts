import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { arrayLiteral } from '../db/arrayLiteral.ts';

/**
 * Each user with many chunks gets an HNSW index of their own: a partial index `where user_id =
 * '<user>'` on document_chunks. A search over one user's chunks then walks a graph holding only
 * that user's rows, so the user filter passes every row the index returns (the same recall as an
 * unfiltered index, whatever the user's share of the table). One shared index over every user
 * keeps reading past other users' rows and loses recall for questions near their data; a user
 * below the threshold is searched exactly instead (cheaper than any index at that size).
 */

/** From this many ready chunks a user's vector search goes through an index of their own. */
export const OWN_INDEX_MIN_CHUNKS = 10_000;
/** Below this many the index is dropped again (hysteresis: a user near the threshold doesn't flap). */
export const OWN_INDEX_DROP_BELOW = OWN_INDEX_MIN_CHUNKS / 2;
/**
 * Graph build parameters. ef_construction 128 instead of pgvector's 64: on-topic recall@10 0.999
 * instead of 0.965 for a 100 000-chunk user, same build time; m 32 built 2.8× longer for no
 * on-topic gain (bench:retrieval at 1M chunks, docs/benchmarks.md).
 */
export const OWN_INDEX_BUILD = { m: 16, efConstruction: 128 } as const;

const INDEX_PREFIX = 'document_chunks_embedding_u';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The index's name: the prefix + the user id's 32 hex digits (59 characters, under Postgres's 63). */
export function ownIndexName(userId: string): string {
  return `${INDEX_PREFIX}${checkedUserId(userId).replaceAll('-', '')}`;
}

/**
 * The DDL. The user id is inlined (a partial index's predicate is a constant) after checking it
 * is a uuid, so nothing else can reach the statement.
 */
export function ownIndexDefinition(userId: string, options: { concurrently: boolean }): string {
  const id = checkedUserId(userId);
  return `create index ${options.concurrently ? 'concurrently ' : ''}if not exists "${ownIndexName(id)}"
    on document_chunks using hnsw (embedding vector_cosine_ops)
    with (m = ${OWN_INDEX_BUILD.m}, ef_construction = ${OWN_INDEX_BUILD.efConstruction})
    where user_id = '${id}'::uuid`;
}

/** The user's chunks in ready documents (documents.chunk_count, so no chunk is counted). */
export async function readyChunkCount(em: EntityManager, userId: string, documentIds?: string[] | null) {
  const rows: { chunks: number }[] = await (em as SqlEntityManager).execute(
    `select coalesce(sum(chunk_count), 0)::int as chunks
       from documents where user_id = ? and status = 'ready'${documentIds ? ' and id = any(?::uuid[])' : ''}`,
    documentIds ? [userId, arrayLiteral(documentIds)] : [userId],
  );
  return rows[0]?.chunks ?? 0;
}

export type IndexChange = 'created' | 'dropped' | 'unchanged';

/**
 * Creates or drops the user's own index as their chunk count crossed a threshold. Runs outside
 * any transaction (`concurrently`: other users' inserts and searches go on while it builds; the
 * build of a 100k-chunk user's index takes tens of seconds). A build that failed half-way leaves
 * an invalid index, which is dropped and built again.
 */
export async function reconcileOwnIndex(
  em: EntityManager,
  userId: string,
  thresholds = { from: OWN_INDEX_MIN_CHUNKS, dropBelow: OWN_INDEX_DROP_BELOW },
): Promise<IndexChange> {
  const sql = em.fork() as SqlEntityManager;
  const chunks = await readyChunkCount(sql, userId);
  const state = await indexState(sql, userId);
  if (chunks >= thresholds.from && state !== 'valid') {
    if (state === 'invalid') await sql.execute(`drop index concurrently if exists "${ownIndexName(userId)}"`);
    await sql.execute(ownIndexDefinition(userId, { concurrently: true }));
    return 'created';
  }
  if (chunks < thresholds.dropBelow && state !== 'missing') {
    await dropOwnIndex(sql, userId);
    return 'dropped';
  }
  return 'unchanged';
}

export async function dropOwnIndex(em: EntityManager, userId: string): Promise<void> {
  await (em as SqlEntityManager).execute(`drop index concurrently if exists "${ownIndexName(userId)}"`);
}

export async function indexState(
  em: EntityManager,
  userId: string,
): Promise<'valid' | 'invalid' | 'missing'> {
  const rows: { valid: boolean }[] = await (em as SqlEntityManager).execute(
    `select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = ?`,
    [ownIndexName(userId)],
  );
  if (rows.length === 0) return 'missing';
  return rows[0]!.valid ? 'valid' : 'invalid';
}

function checkedUserId(userId: string): string {
  if (!UUID.test(userId)) throw new Error('a user id must be a uuid');
  return userId.toLowerCase();
}
