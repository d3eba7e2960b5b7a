import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.ts';
import { newId } from '../../src/db/ids.ts';
import { type Orm, openDatabase } from '../../src/db/orm.ts';
import { ormOptions } from '../../src/db/ormOptions.ts';
import {
  deleteChunksInBatches,
  deleteUserChunks,
  dropOwnIndexIfSmall,
} from '../../src/documents/chunkDeletion.ts';
import { createLogger } from '../../src/logger.ts';
import { documentSearchScope } from '../../src/retrieval/documentScope.ts';
import { hybridSearch, nearestByVector } from '../../src/retrieval/hybridSearch.ts';
import { indexState, ownIndex, ownIndexName, reconcileOwnIndex } from '../../src/retrieval/ownVectorIndex.ts';
import { createTestDatabase } from '../support/services.ts';

const logger = createLogger('silent');
const DIMENSIONS = 384;
/** Test-sized thresholds: from 600 ready chunks a user gets an index of their own, below 300 it goes. */
const THRESHOLDS = { from: 600, dropBelow: 300 };

/** A deterministic pseudo-random unit vector (mulberry32 seeded by `seed`). */
function randomUnit(seed: number): number[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296 - 0.5;
  };
  const values = Array.from({ length: DIMENSIONS }, next);
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
}

/** `base` nudged towards `toward` by `weight`, unit length: a neighbour at a known rank. */
function blend(base: number[], toward: number[], weight: number): number[] {
  const values = base.map((value, index) => (1 - weight) * value + weight * toward[index]!);
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
}

interface SeededChunk {
  content: string;
  embedding: number[];
}

async function insertUser(em: SqlEntityManager, label: string): Promise<string> {
  const id = newId();
  await em.execute(`insert into users (id, email, password_hash) values (?, ?, 'x')`, [
    id,
    `${label}-${id.slice(0, 8)}@example.com`,
  ]);
  return id;
}

/** One document with its chunks, written the way ChunkStore writes them (200 rows a statement). */
async function insertDocument(
  em: SqlEntityManager,
  userId: string,
  chunks: SeededChunk[],
  status: 'ready' | 'processing' = 'ready',
): Promise<string> {
  const id = newId();
  await em.execute(
    `insert into documents (id, user_id, filename, mime, size, sha256, status, chunk_count)
     values (?, ?, 'notes.txt', 'text/plain', 1, ?, ?, ?)`,
    [id, userId, id.replaceAll('-', '').padEnd(64, '0'), status, chunks.length],
  );
  for (let start = 0; start < chunks.length; start += 200) {
    const slice = chunks.slice(start, start + 200);
    await em.execute(
      `insert into document_chunks (id, document_id, user_id, ordinal, content, token_count, embedding)
       values ${slice.map(() => '(?, ?, ?, ?, ?, 1, ?::vector)').join(', ')}`,
      slice.flatMap((chunk, index) => [
        newId(),
        id,
        userId,
        start + index,
        chunk.content,
        `[${chunk.embedding.join(',')}]`,
      ]),
    );
  }
  return id;
}

const filler = (count: number, seed: number, label: string): SeededChunk[] =>
  Array.from({ length: count }, (_, index) => ({
    content: `${label} filler passage ${index} about nothing in particular`,
    embedding: randomUnit(seed + index),
  }));

const chunkOwners = async (em: SqlEntityManager, ids: string[]) => {
  const rows: { user_id: string }[] = await em.execute(
    `select user_id from document_chunks where id = any(?::uuid[])`,
    [`{${ids.join(',')}}`],
  );
  return rows.map((row) => row.user_id);
};

const countChunks = async (em: SqlEntityManager, where: string, params: unknown[]) =>
  (
    (await em.execute(`select count(*)::int as count from document_chunks where ${where}`, params)) as {
      count: number;
    }[]
  )[0]!.count;

function describeScale(kind: string, connect: () => Promise<{ orm: Orm; cleanup: () => Promise<void> }>) {
  describe(`retrieval at scale on ${kind}: own index for big users, exact search for small ones`, function () {
    this.timeout(120_000);
    let orm: Orm;
    let cleanup: () => Promise<void>;
    const query = randomUnit(1);
    // Planted neighbours of `query`, nearest first, in every user's data: each user must get their own back.
    const planted = (label: string): SeededChunk[] =>
      [0.9, 0.7, 0.5].map((weight, rank) => ({
        content: `${label} planted neighbour ${rank}: revenue of the northern region`,
        embedding: blend(randomUnit(1_000 + rank), query, weight),
      }));
    let big: string;
    let small: string;
    let other: string;
    let bigDocuments: string[];

    before(async () => {
      ({ orm, cleanup } = await connect());
      const em = orm.em.fork() as SqlEntityManager;
      big = await insertUser(em, 'big');
      small = await insertUser(em, 'small');
      other = await insertUser(em, 'other');
      bigDocuments = [
        await insertDocument(em, big, [...planted('big'), ...filler(397, 10_000, 'big')]),
        await insertDocument(em, big, filler(400, 20_000, 'big')),
      ];
      // Not ready yet: its chunk, nearer than anything, must not be found.
      await insertDocument(em, big, [{ content: 'big unfinished', embedding: query }], 'processing');
      await insertDocument(em, small, [...planted('small'), ...filler(47, 30_000, 'small')]);
      await insertDocument(em, other, [...planted('other'), ...filler(97, 40_000, 'other')]);
      // As autovacuum would: the planner's row estimates decide between an index and a scan.
      await em.execute('analyze documents');
      await em.execute('analyze document_chunks');
    });
    after(async () => {
      await orm?.close();
      await cleanup?.();
    });

    it('gives a user over the threshold an IVFFlat index of their own, and none to a small one', async () => {
      expect(await reconcileOwnIndex(orm.em.fork(), big, THRESHOLDS)).to.equal('created');
      expect(await reconcileOwnIndex(orm.em.fork(), big, THRESHOLDS)).to.equal('unchanged');
      expect(await reconcileOwnIndex(orm.em.fork(), small, THRESHOLDS)).to.equal('unchanged');
      expect(await indexState(orm.em.fork(), big)).to.equal('valid');
      expect(await indexState(orm.em.fork(), small)).to.equal('missing');
      const [definition] = (await (orm.em.fork() as SqlEntityManager).execute(
        `select indexdef from pg_indexes where indexname = ?`,
        [ownIndexName(big)],
      )) as { indexdef: string }[];
      expect(definition?.indexdef)
        .to.match(/USING ivfflat/)
        .and.to.include(`WHERE (user_id = '${big}'::uuid)`);
      // 800 ready chunks in lists of about 50 rows.
      expect(await ownIndex(orm.em.fork(), big)).to.deep.equal({
        state: 'valid',
        method: 'ivfflat',
        lists: 16,
      });
    });

    it('rebuilds an own index of the earlier kind (HNSW) as IVFFlat under the same name, searchable throughout', async () => {
      const em = orm.em.fork() as SqlEntityManager;
      const name = ownIndexName(other);
      // As the previous migration left a big user: an HNSW graph under the own index's name.
      await em.execute(
        `create index "${name}" on document_chunks using hnsw (embedding vector_cosine_ops) where user_id = '${other}'::uuid`,
      );
      const hnswOnly = { from: 50, dropBelow: 10 };
      expect(await ownIndex(em, other)).to.include({ state: 'valid', method: 'hnsw' });
      expect(await reconcileOwnIndex(orm.em.fork(), other, hnswOnly)).to.equal('rebuilt');
      expect(await ownIndex(em, other)).to.deep.equal({ state: 'valid', method: 'ivfflat', lists: 2 });
      expect(await reconcileOwnIndex(orm.em.fork(), other, hnswOnly)).to.equal('unchanged');
      const scope = await documentSearchScope(em, other, null, hnswOnly.from);
      const plan = await explainVectorLeg(orm, scope);
      expect(plan, plan).to.include(name);
      const nearest = await nearestByVector(orm.em.fork(), scope, query, 3);
      const contents = await contentsOf(
        orm,
        nearest.map((row) => row.id),
      );
      expect(nearest.map((row) => contents.get(row.id))).to.deep.equal(
        [0, 1, 2].map((rank) => `other planted neighbour ${rank}: revenue of the northern region`),
      );
      await (orm.em.fork() as SqlEntityManager).execute(`drop index "${name}"`);
    });

    it('searches the big user through their own index and the small one exactly, each finding only their own passages', async () => {
      const bigScope = await documentSearchScope(orm.em.fork(), big, null, THRESHOLDS.from);
      const smallScope = await documentSearchScope(orm.em.fork(), small, null, THRESHOLDS.from);
      expect(bigScope.vectorPlan).to.equal('index');
      expect(smallScope.vectorPlan).to.equal('exact');

      const bigPlan = await explainVectorLeg(orm, bigScope);
      expect(bigPlan, bigPlan).to.include(ownIndexName(big));
      const smallPlan = await explainVectorLeg(orm, smallScope);
      expect(smallPlan).not.to.match(/embedding_u|hnsw/i);

      for (const [userId, scope, label] of [
        [big, bigScope, 'big'],
        [small, smallScope, 'small'],
      ] as const) {
        const nearest = await nearestByVector(orm.em.fork(), scope, query, 10);
        expect(nearest).to.have.length(10);
        expect(
          new Set(
            await chunkOwners(
              orm.em.fork() as SqlEntityManager,
              nearest.map((row) => row.id),
            ),
          ),
        ).to.deep.equal(new Set([userId]));
        const contents = await contentsOf(
          orm,
          nearest.map((row) => row.id),
        );
        // The planted neighbours come first, nearest first; similarities never increase.
        expect(nearest.slice(0, 3).map((row) => contents.get(row.id))).to.deep.equal(
          [0, 1, 2].map((rank) => `${label} planted neighbour ${rank}: revenue of the northern region`),
        );
        const similarities = nearest.map((row) => row.similarity);
        expect(similarities).to.deep.equal([...similarities].sort((a, b) => b - a));

        const hits = await hybridSearch(orm.em.fork(), scope, {
          vector: query,
          text: 'northern revenue',
          words: 'any',
          minCoverage: 0.5,
          limit: 5,
        });
        expect(
          new Set(
            await chunkOwners(
              orm.em.fork() as SqlEntityManager,
              hits.map((hit) => hit.id),
            ),
          ),
        ).to.deep.equal(new Set([userId]));
        expect(contents.get(hits[0]!.id)).to.equal(
          `${label} planted neighbour 0: revenue of the northern region`,
        );
        expect(hits[0]!.wordCoverage).to.equal(1);
      }
    });

    it('agrees with exact search on the big user’s nearest neighbours', async () => {
      const scope = await documentSearchScope(orm.em.fork(), big, null, THRESHOLDS.from);
      const probe = randomUnit(77);
      const viaIndex = await nearestByVector(orm.em.fork(), scope, probe, 10);
      const exact = await nearestByVector(orm.em.fork(), { ...scope, vectorPlan: 'exact' }, probe, 10);
      const shared = viaIndex.filter((row) => exact.some((truth) => truth.id === row.id)).length;
      expect(shared).to.be.at.least(9);
    });

    it('ranks by words only passages holding at least half of the question’s words', async () => {
      const scope = await documentSearchScope(orm.em.fork(), small, null, THRESHOLDS.from);
      const text = 'northern revenue penguins glaciers';
      const half = await hybridSearch(orm.em.fork(), scope, {
        text,
        words: 'any',
        minCoverage: 0.5,
        limit: 60,
      });
      const any = await hybridSearch(orm.em.fork(), scope, { text, words: 'any', limit: 60 });
      // The planted passages hold 2 of the 4 words; the filler none of them.
      expect(half.map((hit) => hit.wordCoverage)).to.deep.equal([0.5, 0.5, 0.5]);
      expect(any).to.have.length(3);
      const lonely = await hybridSearch(orm.em.fork(), scope, {
        text: 'northern penguins glaciers icebergs',
        words: 'any',
        minCoverage: 0.5,
        limit: 60,
      });
      expect(lonely).to.deep.equal([]);
    });

    it('deletes a document’s chunks in batches, leaving other documents and users alone', async () => {
      const em = orm.em.fork() as SqlEntityManager;
      const otherBefore = await countChunks(em, 'user_id = ?', [other]);
      const deleted = await deleteChunksInBatches(
        orm.em.fork(),
        { documentId: bigDocuments[1]!, userId: big },
        64,
      );
      expect(deleted).to.equal(400);
      expect(await countChunks(em, 'document_id = ?', [bigDocuments[1]])).to.equal(0);
      expect(await countChunks(em, 'document_id = ?', [bigDocuments[0]])).to.equal(400);
      expect(await countChunks(em, 'user_id = ?', [other])).to.equal(otherBefore);
      // A batch scoped to another user's id deletes nothing.
      expect(
        await deleteChunksInBatches(orm.em.fork(), { documentId: bigDocuments[0]!, userId: other }, 64),
      ).to.equal(0);
      await em.execute(`delete from documents where id = ?`, [bigDocuments[1]]);

      // 400 ready chunks left: still above the drop threshold, so the index stays and is still used.
      expect(await dropOwnIndexIfSmall(orm.em.fork(), big, THRESHOLDS.dropBelow)).to.equal(false);
      expect(await indexState(orm.em.fork(), big)).to.equal('valid');
      expect((await documentSearchScope(orm.em.fork(), big, null, THRESHOLDS.from)).vectorPlan).to.equal(
        'exact',
      );
    });

    it('switches a user back to exact search when they fall below the threshold', async () => {
      const em = orm.em.fork() as SqlEntityManager;
      await deleteChunksInBatches(orm.em.fork(), { documentId: bigDocuments[0]!, userId: big }, 128);
      await em.execute(`delete from documents where id = ?`, [bigDocuments[0]]);
      expect(await dropOwnIndexIfSmall(orm.em.fork(), big, THRESHOLDS.dropBelow)).to.equal(true);
      expect(await indexState(orm.em.fork(), big)).to.equal('missing');
      expect(await reconcileOwnIndex(orm.em.fork(), big, THRESHOLDS)).to.equal('unchanged');
    });

    it('deletes a user’s chunks in batches with their own index, nothing left behind', async () => {
      const em = orm.em.fork() as SqlEntityManager;
      await insertDocument(em, other, filler(700, 50_000, 'other'));
      expect(await reconcileOwnIndex(orm.em.fork(), other, THRESHOLDS)).to.equal('created');
      const smallBefore = await countChunks(em, 'user_id = ?', [small]);
      expect(await deleteUserChunks(orm.em.fork(), other)).to.equal(800);
      expect(await countChunks(em, 'user_id = ?', [other])).to.equal(0);
      expect(await indexState(orm.em.fork(), other)).to.equal('missing');
      await em.execute(`delete from users where id = ?`, [other]);
      expect(await countChunks(em, 'user_id = ?', [small])).to.equal(smallBefore);
    });
  });
}

const BEFORE = 'Migration20261201000000MessageTokenCounts';
const OWN_INDEXES = 'Migration20261201010000OwnVectorIndexes';

const indexNames = async (em: SqlEntityManager) =>
  (
    (await em.execute(
      `select indexname from pg_indexes where tablename = 'document_chunks' and indexname like 'document_chunks_embedding%' order by 1`,
    )) as { indexname: string }[]
  ).map((row) => row.indexname);

function describeMigration(
  kind: string,
  options: () => Promise<{ config: Parameters<typeof ormOptions>[0]; cleanup: () => Promise<void> }>,
) {
  describe(`own-index migration on ${kind}, from the previous schema with data present`, function () {
    this.timeout(120_000);

    it('drops the shared HNSW index, indexes the users with ≥ 10 000 ready chunks, and goes back down', async () => {
      const { config, cleanup } = await options();
      const orm = await MikroORM.init(await ormOptions(config, () => {}));
      try {
        await orm.migrator.up({ to: BEFORE });
        const em = orm.em.fork() as SqlEntityManager;
        expect(await indexNames(em)).to.deep.equal(['document_chunks_embedding_hnsw']);
        const big = await insertUser(em, 'big');
        const small = await insertUser(em, 'small');
        const bigDocument = await insertDocument(em, big, [...filler(30, 60_000, 'big')]);
        // The migration reads documents.chunk_count: this document counts as 10 000 chunks.
        await em.execute(`update documents set chunk_count = 10000 where id = ?`, [bigDocument]);
        await insertDocument(em, small, filler(20, 70_000, 'small'));

        await orm.migrator.up();
        expect(await indexNames(em)).to.deep.equal([ownIndexName(big)]);
        // 10 000 chunks in lists of about 50 rows (the IVFFlat migration after the own-index one).
        expect(await ownIndex(em, big)).to.deep.equal({ state: 'valid', method: 'ivfflat', lists: 200 });
        const scope = await documentSearchScope(em, big, null);
        expect(scope.vectorPlan).to.equal('index');
        const nearest = await nearestByVector(em, scope, randomUnit(60_003), 5);
        expect(nearest[0]?.similarity).to.be.closeTo(1, 1e-5);
        expect(
          new Set(
            await chunkOwners(
              em,
              nearest.map((row) => row.id),
            ),
          ),
        ).to.deep.equal(new Set([big]));

        await orm.migrator.down({ to: BEFORE });
        expect(await indexNames(em)).to.deep.equal(['document_chunks_embedding_hnsw']);
        expect(await countChunks(em, 'true', [])).to.equal(50);
        expect((await orm.migrator.getExecuted()).map((migration) => migration.name)).not.to.include(
          OWN_INDEXES,
        );
      } finally {
        await orm.close();
        await cleanup();
      }
    });
  });
}

describeMigration('PostgreSQL + pgvector', async () => ({
  config: loadConfig({ DATABASE_URL: await createTestDatabase('own_index_migration') }),
  cleanup: async () => {},
}));

describeMigration('embedded PGlite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-pglite-'));
  await mkdir(join(dataDir, 'pglite'), { recursive: true });
  return {
    config: loadConfig({ DATA_DIR: dataDir }),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});

async function explainVectorLeg(
  orm: Orm,
  scope: Awaited<ReturnType<typeof documentSearchScope>>,
): Promise<string> {
  const platform = orm.em.getPlatform();
  const statements: string[] = [];
  orm.config.set('onQuery', (sql: string, params: readonly unknown[]) => {
    statements.push(platform.formatQuery(sql, params as unknown[]));
    return sql;
  });
  try {
    await nearestByVector(orm.em.fork(), scope, randomUnit(5), 24);
  } finally {
    orm.config.set('onQuery', (sql: string) => sql);
  }
  const select = statements.findLast((statement) => /^\s*(with|select)\b/i.test(statement))!;
  return orm.em.fork().transactional(async (tx) => {
    const sql = tx as SqlEntityManager;
    for (const statement of statements.filter((statement) =>
      /^\s*(set\b|select set_config\()/i.test(statement),
    ))
      await sql.execute(statement);
    const rows: Record<string, string>[] = await sql.execute(`explain ${select}`);
    return rows.map((row) => Object.values(row)[0]).join('\n');
  });
}

async function contentsOf(orm: Orm, ids: string[]): Promise<Map<string, string>> {
  const rows: { id: string; content: string }[] = await (orm.em.fork() as SqlEntityManager).execute(
    `select id, content from document_chunks where id = any(?::uuid[])`,
    [`{${ids.join(',')}}`],
  );
  return new Map(rows.map((row) => [row.id, row.content]));
}

describeScale('PostgreSQL + pgvector', async () => {
  const url = await createTestDatabase('retrieval_scale');
  const orm = await openDatabase(loadConfig({ DATABASE_URL: url }), logger);
  return { orm, cleanup: async () => {} };
});

describeScale('embedded PGlite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-pglite-'));
  const orm = await openDatabase(loadConfig({ DATA_DIR: dataDir }), logger);
  return { orm, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
});
