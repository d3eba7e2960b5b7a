import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.ts';
import { Document, DocumentChunk, User } from '../../src/db/entities/index.ts';
import { type Orm, openDatabase } from '../../src/db/orm.ts';
import { createLogger } from '../../src/logger.ts';
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
