import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { arrayLiteral } from '../db/arrayLiteral.ts';

/**
 * Each user with many chunks gets a vector index of their own: a partial IVFFlat index `where
 * user_id = '<user>'` on document_chunks. A search then reads only that user's rows (the user
 * filter is the index's predicate), whatever the user's share of the table; a user below the
 * threshold is searched exactly instead (cheaper than any index at that size).
 *
 * Why IVFFlat and not HNSW: a question far from everything a user has (an off-topic question)
 * has nearest passages that are near-ties (the 1st and the 11th within 0.02 of similarity). A
 * graph search orders those poorly: an own HNSW index found 0.3–0.65 of the exact ten, even at
 * ef_search 1 000. IVFFlat computes the exact distance of every row in the lists it probes, so it
 * finds the near-ties that lie in those lists; lists of ~50 rows with a fixed budget of rows read
 * per query reached recall@10 ≥ 0.95 on- and off-topic at ~10 ms (docs/benchmarks.md), and
 * builds no slower than HNSW (28 s against 29 s for a 100 000-chunk user).
 */

/** From this many ready chunks a user's vector search goes through an index of their own. */
export const OWN_INDEX_MIN_CHUNKS = 10_000;
/** Below this many the index is dropped again (hysteresis: a user near the threshold doesn't flap). */
export const OWN_INDEX_DROP_BELOW = OWN_INDEX_MIN_CHUNKS / 2;
/** Rows per IVF list when the index is built: lists = chunks / LIST_ROWS. */
export const OWN_INDEX_LIST_ROWS = 50;
/**
 * Lists a query reads (ivfflat.probes): about 8 000 rows at the built list size. At 100 000 chunks
 * that is 8 % of the user's rows; at 10 000 it is most of them, still read from the compact index
 * instead of the table. The cost grows with neither the user nor the table.
 */
export const OWN_INDEX_PROBES = 160;
/** The index is rebuilt for the current size once the user has grown or shrunk this many times. */
export const OWN_INDEX_REBUILD_FACTOR = 2;
/** pgvector's upper bound on lists. */
const MAX_LISTS = 32_768;

/** How many lists an index over this many chunks gets. */
export const ownIndexLists = (chunks: number) =>
  Math.min(MAX_LISTS, Math.max(1, Math.round(chunks / OWN_INDEX_LIST_ROWS)));

const INDEX_PREFIX = 'document_chunks_embedding_u';
/** A rebuild is made under this suffix beside the old index, then takes its name. */
const REBUILD_SUFFIX = '_next';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The index's name: the prefix + the user id's 32 hex digits (59 characters, under Postgres's 63). */
export function ownIndexName(userId: string): string {
  return `${INDEX_PREFIX}${checkedUserId(userId).replaceAll('-', '')}`;
}

/**
 * The DDL, for a user with `chunks` ready chunks. The user id is inlined (a partial index's
 * predicate is a constant) after checking it is a uuid, so nothing else can reach the statement.
 */
export function ownIndexDefinition(
  userId: string,
  chunks: number,
  options: { concurrently: boolean; name?: string },
): string {
  const id = checkedUserId(userId);
  return `create index ${options.concurrently ? 'concurrently ' : ''}if not exists "${options.name ?? ownIndexName(id)}"
    on document_chunks using ivfflat (embedding vector_cosine_ops) with (lists = ${ownIndexLists(chunks)})
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

export type IndexChange = 'created' | 'rebuilt' | 'dropped' | 'unchanged';

/**
 * Creates, rebuilds or drops the user's own index as their chunk count moved. Runs outside any
 * transaction (`concurrently`: other users' inserts and searches go on while it builds). A build
 * that failed half-way leaves an invalid index, which is dropped and built again. A rebuild (the
 * user grew or shrank OWN_INDEX_REBUILD_FACTOR times since the lists were made, or the index is
 * of an earlier kind) is built beside the old index and then takes its name, so searches always
 * have one.
 */
export async function reconcileOwnIndex(
  em: EntityManager,
  userId: string,
  thresholds = { from: OWN_INDEX_MIN_CHUNKS, dropBelow: OWN_INDEX_DROP_BELOW },
): Promise<IndexChange> {
  const sql = em.fork() as SqlEntityManager;
  const chunks = await readyChunkCount(sql, userId);
  const index = await ownIndex(sql, userId);
  if (chunks >= thresholds.from && index.state !== 'valid') {
    if (index.state === 'invalid') await dropOwnIndex(sql, userId);
    await sql.execute(ownIndexDefinition(userId, chunks, { concurrently: true }));
    return 'created';
  }
  if (chunks < thresholds.dropBelow && index.state !== 'missing') {
    await dropOwnIndex(sql, userId);
    return 'dropped';
  }
  if (index.state === 'valid' && chunks >= thresholds.from && needsRebuild(index, chunks)) {
    const name = ownIndexName(userId);
    const next = `${name}${REBUILD_SUFFIX}`;
    await sql.execute(`drop index concurrently if exists "${next}"`); // an earlier rebuild that died
    await sql.execute(ownIndexDefinition(userId, chunks, { concurrently: true, name: next }));
    await sql.execute(`drop index concurrently if exists "${name}"`);
    await sql.execute(`alter index "${next}" rename to "${name}"`);
    return 'rebuilt';
  }
  return 'unchanged';
}

/** Lists made for a size the user has since left, or an index of another kind (HNSW). */
function needsRebuild(index: OwnIndex, chunks: number): boolean {
  if (index.method !== 'ivfflat' || !index.lists) return true;
  const builtFor = index.lists * OWN_INDEX_LIST_ROWS;
  if (index.lists === MAX_LISTS) return chunks < builtFor / OWN_INDEX_REBUILD_FACTOR;
  return chunks > builtFor * OWN_INDEX_REBUILD_FACTOR || chunks < builtFor / OWN_INDEX_REBUILD_FACTOR;
}

export async function dropOwnIndex(em: EntityManager, userId: string): Promise<void> {
  await (em as SqlEntityManager).execute(`drop index concurrently if exists "${ownIndexName(userId)}"`);
}

export interface OwnIndex {
  state: 'valid' | 'invalid' | 'missing';
  /** The access method (`ivfflat`; `hnsw` for an index made before IVFFlat was chosen). */
  method?: string;
  /** IVFFlat's lists, as built. */
  lists?: number;
}

export async function ownIndex(em: EntityManager, userId: string): Promise<OwnIndex> {
  const rows: { valid: boolean; method: string; options: string[] | null }[] = await (
    em as SqlEntityManager
  ).execute(
    `select i.indisvalid as valid, a.amname as method, c.reloptions as options
       from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam
      where c.relname = ?`,
    [ownIndexName(userId)],
  );
  const row = rows[0];
  if (!row) return { state: 'missing' };
  const lists = row.options?.find((option) => option.startsWith('lists='))?.slice('lists='.length);
  return {
    state: row.valid ? 'valid' : 'invalid',
    method: row.method,
    ...(lists ? { lists: Number(lists) } : {}),
  };
}

export async function indexState(em: EntityManager, userId: string): Promise<OwnIndex['state']> {
  return (await ownIndex(em, userId)).state;
}

function checkedUserId(userId: string): string {
  if (!UUID.test(userId)) throw new Error('a user id must be a uuid');
  return userId.toLowerCase();
}
