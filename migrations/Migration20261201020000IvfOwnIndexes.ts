import { Migration } from '@mikro-orm/migrations';

/**
 * Users' own vector indexes become IVFFlat (lists of ~50 rows) instead of HNSW: a graph search
 * missed most of the exact nearest passages of off-topic questions (near-ties), IVFFlat's probed
 * lists are searched exactly (src/retrieval/ownVectorIndex.ts, docs/benchmarks.md). Every user with
 * at least 10 000 ready chunks gets the new index here, built inside the migration's transaction
 * (chunks can't be written meanwhile; searches go on). The DDL repeats ownVectorIndex.ts's so that
 * this migration stays what it was when it ran.
 */
export class Migration20261201020000IvfOwnIndexes extends Migration {
  override async up(): Promise<void> {
    for (const { name } of await this.ownIndexes()) this.addSql(`drop index if exists "${name}"`);
    for (const { id, chunks } of await this.bigUsers()) {
      const lists = Math.min(32_768, Math.max(1, Math.round(chunks / 50)));
      this.addSql(
        `create index if not exists "${indexName(id)}"
           on document_chunks using ivfflat (embedding vector_cosine_ops) with (lists = ${lists})
           where user_id = '${id}'::uuid`,
      );
    }
  }

  override async down(): Promise<void> {
    for (const { name } of await this.ownIndexes()) this.addSql(`drop index if exists "${name}"`);
    for (const { id } of await this.bigUsers()) {
      this.addSql(
        `create index if not exists "${indexName(id)}"
           on document_chunks using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 128)
           where user_id = '${id}'::uuid`,
      );
    }
  }

  private async ownIndexes() {
    return (await this.execute(
      `select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid
        where i.indrelid = 'document_chunks'::regclass and c.relname like 'document\\_chunks\\_embedding\\_u%'`,
    )) as { name: string }[];
  }

  private async bigUsers() {
    return (await this.execute(
      `select user_id::text as id, sum(chunk_count)::int as chunks from documents where status = 'ready'
        group by user_id having sum(chunk_count) >= 10000`,
    )) as { id: string; chunks: number }[];
  }
}

const indexName = (userId: string) => `document_chunks_embedding_u${userId.replaceAll('-', '')}`;
