import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import pgvector from 'pgvector';
import { arrayLiteral } from '../db/arrayLiteral.ts';
import { fuseRanks } from './rankFusion.ts';

/**
 * One hybrid query over a table with an `embedding vector` (HNSW, cosine) and a generated
 * `search_vector tsvector` (GIN): a nearest-neighbour leg and a full-text leg, fused by rank.
 * The scope's filter (always the user, in SQL) is applied inside both legs.
 */
export interface SearchScope {
  table: 'document_chunks' | 'messages';
  /** SQL condition on the table's columns (alias `t`), with `?` placeholders. */
  where: string;
  params: unknown[];
  /**
   * How the vector leg finds neighbours. `index`: an HNSW index scan, iteratively continued until
   * enough rows pass the filter (explicit sorts are off for it, so a small table's costs can't
   * turn it into a scan and a sort). `exact`: every row the filter selects, sorted by distance —
   * exact, and cheaper than any index for a few thousand rows. Unset: the planner chooses.
   */
  vectorPlan?: 'index' | 'exact';
  /** With an IVFFlat index: how many of its lists a search reads (ivfflat.probes). */
  probes?: number;
}

export interface SearchRequest {
  /** The query's embedding (unit length); omitted → full-text only. */
  vector?: number[];
  /** The user's words. */
  text: string;
  /**
   * How words match. `all`: a search box — websearch_to_tsquery, every word (quotes, OR and
   * -exclusions work). `any`: a question — any of its words, ranked by ts_rank_cd, and each hit
   * reports the share of the question's words it contains (a question of six content words
   * rarely has a passage with all six, so AND would find almost nothing).
   */
  words: 'all' | 'any';
  /**
   * `any` only: the text leg ranks only passages holding at least this share of the question's
   * words (0 → any one word). With a big user's 100 000 chunks a common word matches thousands;
   * ranking whichever 500 of those the scan met first made the leg's order, and so the fusion,
   * close to arbitrary. A caller that drops passages below a coverage anyway loses nothing.
   */
  minCoverage?: number;
  limit: number;
  /** How many candidates each leg contributes before fusion. */
  candidates?: number;
  /** hnsw.ef_search: an HNSW index's search breadth (accuracy vs time). */
  efSearch?: number;
}

export interface SearchHit {
  id: string;
  /** Fused reciprocal-rank score (higher is better). */
  score: number;
  /** Cosine similarity to the query vector, when the vector leg found it. */
  similarity: number | null;
  /** Share (0..1) of the query's words the full-text leg found in it; 0 when it didn't match. */
  wordCoverage: number;
}

/** Full-text matches ranked by ts_rank_cd are read from at most this many matching rows. */
const TEXT_CANDIDATE_CAP = 500;

export async function hybridSearch(
  em: EntityManager,
  scope: SearchScope,
  request: SearchRequest,
): Promise<SearchHit[]> {
  const candidates = request.candidates ?? Math.max(request.limit * 4, 20);
  const [vectorRows, textRows] = await Promise.all([
    request.vector ? nearestByVector(em, scope, request.vector, candidates, request.efSearch) : [],
    request.text.trim()
      ? matchingText(em.fork(), scope, request.text, request.words, request.minCoverage ?? 0, candidates)
      : [],
  ]);
  const similarity = new Map(vectorRows.map((row) => [row.id, row.similarity]));
  const coverage = new Map(textRows.map((row) => [row.id, row.coverage]));
  return fuseRanks([vectorRows.map((row) => row.id), textRows.map((row) => row.id)])
    .slice(0, request.limit)
    .map((item) => ({
      id: item.id,
      score: item.score,
      similarity: similarity.get(item.id) ?? null,
      wordCoverage: coverage.get(item.id) ?? 0,
    }));
}

/**
 * The vector leg, as the scope's `vectorPlan` says. Both return the `limit` nearest rows that
 * pass the scope's filter, closest first (ties by id).
 */
export function nearestByVector(
  em: EntityManager,
  scope: SearchScope,
  vector: number[],
  limit: number,
  efSearch = Math.max(limit, 100),
): Promise<{ id: string; similarity: number }[]> {
  return scope.vectorPlan === 'exact'
    ? exactNearest(em, scope, vector, limit)
    : indexedNearest(em, scope, vector, limit, efSearch);
}

/**
 * The index leg (HNSW, or IVFFlat when the scope names its probes). pgvector 0.8's iterative scan
 * keeps reading the index until enough rows pass the filter (without it, a user owning 1 % of the
 * rows would get ~1 % of ef_search back). relaxed_order may return rows slightly out of order, so
 * the outer query sorts them again.
 */
async function indexedNearest(
  em: EntityManager,
  scope: SearchScope,
  vector: number[],
  limit: number,
  efSearch: number,
): Promise<{ id: string; similarity: number }[]> {
  const literal = pgvector.toSql(vector);
  return em.fork().transactional(async (tx) => {
    const sql = tx as SqlEntityManager;
    // One round trip for the transaction's settings (set_config(…, true) is `set local`).
    const settings: [string, string][] = [
      ['hnsw.iterative_scan', 'relaxed_order'],
      ['hnsw.ef_search', String(Math.trunc(efSearch))],
    ];
    // Sorting the filter's rows is the exact plan; asked for the index, the planner must walk it.
    // (A disabled node's cost is huge, which would also set off JIT compilation: 300 ms.)
    if (scope.vectorPlan === 'index') settings.push(['enable_sort', 'off'], ['jit', 'off']);
    if (scope.probes)
      settings.push(
        ['ivfflat.probes', String(Math.trunc(scope.probes))],
        ['ivfflat.iterative_scan', 'relaxed_order'],
      );
    await sql.execute(`select ${settings.map(() => 'set_config(?, ?, true)').join(', ')}`, settings.flat());
    const rows: { id: string; distance: number }[] = await sql.execute(
      `with nearest as materialized (
         select t.id, t.embedding <=> ?::vector as distance
           from ${scope.table} t
          where t.embedding is not null and (${scope.where})
          order by t.embedding <=> ?::vector
          limit ?
       )
       select id, distance from nearest order by distance, id`,
      [literal, ...scope.params, literal, limit],
    );
    return rows.map((row) => ({ id: row.id, similarity: 1 - Number(row.distance) }));
  });
}

/**
 * Exact search: the filter's rows (through the user's b-tree index), every distance computed, a
 * top-N sort. The materialized CTE keeps the planner from walking an HNSW index instead.
 */
async function exactNearest(
  em: EntityManager,
  scope: SearchScope,
  vector: number[],
  limit: number,
): Promise<{ id: string; similarity: number }[]> {
  const rows: { id: string; distance: number }[] = await (em.fork() as SqlEntityManager).execute(
    `with scoped as materialized (
       select t.id, t.embedding <=> ?::vector as distance
         from ${scope.table} t
        where t.embedding is not null and (${scope.where})
     )
     select id, distance from scoped order by distance, id limit ?`,
    [pgvector.toSql(vector), ...scope.params, limit],
  );
  return rows.map((row) => ({ id: row.id, similarity: 1 - Number(row.distance) }));
}

/** The full-text leg, ranked by cover density over a capped candidate set. */
async function matchingText(
  em: EntityManager,
  scope: SearchScope,
  text: string,
  words: SearchRequest['words'],
  minCoverage: number,
  limit: number,
): Promise<{ id: string; coverage: number }[]> {
  const sql = em as SqlEntityManager;
  if (words === 'all') {
    const rows: { id: string }[] = await sql.execute(
      `with matches as (
         select t.id, t.search_vector
           from ${scope.table} t, websearch_to_tsquery('english', ?) query
          where t.search_vector @@ query and (${scope.where})
          limit ${TEXT_CANDIDATE_CAP}
       )
       select m.id
         from matches m, websearch_to_tsquery('english', ?) query
        order by ts_rank_cd(m.search_vector, query) desc, m.id
        limit ?`,
      [text, ...scope.params, text, limit],
    );
    return rows.map((row) => ({ id: row.id, coverage: 1 }));
  }
  // The question's words as Postgres stems them (stop words dropped), then "any of them".
  const stemmed = await sql.execute<{ lexemes: string[] | null }[]>(
    `select array_agg(lexeme order by lexeme) as lexemes from unnest(to_tsvector('english', ?))`,
    [text],
  );
  const lexemes = stemmed[0]?.lexemes;
  if (!lexemes?.length) return [];
  const anyWord = lexemes.map((lexeme) => `'${lexeme.replaceAll("'", "''")}'`).join(' | ');
  const matchQuery = enoughWords(lexemes, minCoverage) ?? anyWord;
  const rows: { id: string; matched: number }[] = await sql.execute(
    `with matches as (
       select t.id, t.search_vector
         from ${scope.table} t
        where t.search_vector @@ to_tsquery('simple', ?) and (${scope.where})
        limit ${TEXT_CANDIDATE_CAP}
     )
     select m.id,
            (select count(*) from unnest(?::text[]) word
              where m.search_vector @@ to_tsquery('simple', quote_literal(word)))::int as matched
       from matches m
      order by ts_rank_cd(m.search_vector, to_tsquery('simple', ?)) desc, m.id
      limit ?`,
    [matchQuery, ...scope.params, arrayLiteral(lexemes), anyWord, limit],
  );
  return rows.map((row) => ({ id: row.id, coverage: row.matched / lexemes.length }));
}

/** More combinations than this and the text leg matches any word instead (a very long question). */
const MAX_WORD_COMBINATIONS = 100;

/**
 * A tsquery matching passages that hold at least `share` of `lexemes`: every combination of that
 * many words, ANDed, ORed together — so the GIN index finds exactly those rows. Null when any
 * one word is enough or the combinations would be too many.
 */
function enoughWords(lexemes: readonly string[], share: number): string | null {
  const needed = Math.ceil(lexemes.length * share);
  if (needed <= 1) return null;
  let count = 1;
  for (let index = 0; index < needed; index++) count = (count * (lexemes.length - index)) / (index + 1);
  if (count > MAX_WORD_COMBINATIONS) return null;
  const quoted = lexemes.map((lexeme) => `'${lexeme.replaceAll("'", "''")}'`);
  const groups: string[] = [];
  const pick = (start: number, chosen: string[]) => {
    if (chosen.length === needed) {
      groups.push(`(${chosen.join(' & ')})`);
      return;
    }
    for (let index = start; index <= quoted.length - (needed - chosen.length); index++)
      pick(index + 1, [...chosen, quoted[index]!]);
  };
  pick(0, []);
  return groups.join(' | ');
}
