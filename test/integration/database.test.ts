import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.ts';
import { Document, DocumentChunk, User } from '../../src/db/entities/index.ts';
import { type Orm, openDatabase } from '../../src/db/orm.ts';
import { createLogger } from '../../src/logger.ts';
import { hybridSearch } from '../../src/retrieval/hybridSearch.ts';
import { createTestDatabase } from '../support/services.ts';

const logger = createLogger('silent');

/** A unit vector pointing mostly along `axis`, in the schema's 384 dimensions. */
const vectorNear = (axis: number, wobble = 0) => {
  const values = Array.from({ length: 384 }, (_, i) => (i === axis ? 1 : i === axis + 1 ? wobble : 0));
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
};

async function seedChunks(orm: Orm) {
  const em = orm.em.fork();
  const owner = em.create(User, { email: `Owner+${Date.now()}@Example.com`, passwordHash: 'x' });
  const other = em.create(User, { email: `other+${Date.now()}@example.com`, passwordHash: 'x' });
  const document = em.create(Document, {
    user: owner,
    filename: 'notes.txt',
    mime: 'text/plain',
    size: 10,
    sha256: 'a'.repeat(64),
  });
  const theirs = em.create(Document, {
    user: other,
    filename: 'x.txt',
    mime: 'text/plain',
    size: 10,
    sha256: 'b'.repeat(64),
  });
  const texts = [
    ['The quarterly revenue grew in the northern region', 0, 0.1],
    ['Penguins huddle together to survive the Antarctic winter', 10, 0.1],
    ['Revenue forecasts for next year depend on the northern market', 0, 0.9],
  ] as const;
  for (const [ordinal, [content, axis, wobble]] of texts.entries()) {
    em.create(DocumentChunk, {
      document,
      user: owner,
      ordinal,
      content,
      tokenCount: 10,
      embedding: vectorNear(axis, wobble),
    });
  }
  // Another user's chunk, identical in meaning and words: must never come back for the owner.
  em.create(DocumentChunk, {
    document: theirs,
    user: other,
    ordinal: 0,
    content: texts[0][0],
    tokenCount: 10,
    embedding: vectorNear(0),
  });
  await em.flush();
  return { owner, other };
}

function describeDatabase(kind: string, connect: () => Promise<{ orm: Orm; cleanup: () => Promise<void> }>) {
  describe(`database on ${kind}`, () => {
    let orm: Orm;
    let cleanup: () => Promise<void>;

    before(async () => {
      ({ orm, cleanup } = await connect());
    });
    after(async () => {
      await orm?.close();
      await cleanup?.();
    });

    it('applies every migration from empty and leaves nothing for the schema diff', async () => {
      const executed = await orm.migrator.getExecuted();
      expect(executed.map((migration) => migration.name)).to.include('Migration20261122000000Initial');
      expect(await orm.migrator.getPending()).to.deep.equal([]);
      expect((await orm.schema.getUpdateSchemaSQL()).trim()).to.equal('');
      const rows = await orm.em
        .getConnection()
        .execute("select extname from pg_extension where extname = 'vector'");
      expect(rows).to.have.length(1);
    });

    it('runs a vector and a full-text query over one user’s chunks only', async () => {
      const { owner } = await seedChunks(orm);
      const connection = orm.em.getConnection();
      const nearest: { content: string }[] = await connection.execute(
        `select content from document_chunks where user_id = ? order by embedding <=> ?::vector limit 2`,
        [owner.id, JSON.stringify(vectorNear(0))],
      );
      expect(nearest.map((row) => row.content)).to.deep.equal([
        'The quarterly revenue grew in the northern region',
        'Revenue forecasts for next year depend on the northern market',
      ]);

      const matches: { content: string; rank: number }[] = await connection.execute(
        `select content, ts_rank(search_vector, query) as rank
           from document_chunks, websearch_to_tsquery('english', ?) query
          where user_id = ? and search_vector @@ query order by rank desc`,
        ['penguins winter', owner.id],
      );
      expect(matches.map((row) => row.content)).to.deep.equal([
        'Penguins huddle together to survive the Antarctic winter',
      ]);
    });

    it('runs the hybrid search (HNSW with iterative scan + any-word full text, fused) within one user', async () => {
      const { owner } = await seedChunks(orm);
      const scope = {
        table: 'document_chunks' as const,
        where: 't.user_id = ?',
        params: [owner.id],
      };
      const hits = await hybridSearch(orm.em.fork(), scope, {
        vector: vectorNear(0),
        text: 'How did northern revenue develop?',
        words: 'any',
        limit: 5,
      });
      const contents = new Map(
        (
          await orm.em
            .fork()
            .find(DocumentChunk, { id: { $in: hits.map((hit) => hit.id) } }, { fields: ['content', 'user'] })
        ).map((chunk) => [chunk.id, chunk]),
      );
      expect(hits.every((hit) => contents.get(hit.id)?.user.id === owner.id)).to.equal(true);
      // Found by both legs: near the query vector and sharing its words, so it ranks first.
      expect(contents.get(hits[0]!.id)!.content).to.equal(
        'The quarterly revenue grew in the northern region',
      );
      expect(hits[0]!.similarity).to.be.closeTo(1, 0.01);
      // "northern" and "revenue" of four stemmed words (how, did, develop are dropped or counted).
      expect(hits[0]!.wordCoverage).to.be.greaterThan(0.3);
      const penguins = hits.find((hit) => contents.get(hit.id)!.content.startsWith('Penguins'));
      expect(penguins?.wordCoverage ?? 0).to.equal(0);
    });

    it('keeps email addresses unique whatever their case', async () => {
      const em = orm.em.fork();
      em.create(User, { email: 'case@example.com', passwordHash: 'x' });
      await em.flush();
      const again = orm.em.fork();
      again.create(User, { email: 'CASE@Example.COM', passwordHash: 'x' });
      let failure: unknown;
      try {
        await again.flush();
      } catch (error) {
        failure = error;
      }
      expect(String(failure)).to.match(/users_email_lower_unique/);
    });
  });
}

describeDatabase('PostgreSQL + pgvector', async () => {
  const url = await createTestDatabase('db');
  const orm = await openDatabase(loadConfig({ DATABASE_URL: url }), logger);
  return { orm, cleanup: async () => {} };
});

describeDatabase('embedded PGlite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-pglite-'));
  const orm = await openDatabase(loadConfig({ DATA_DIR: dataDir }), logger);
  return { orm, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
});
