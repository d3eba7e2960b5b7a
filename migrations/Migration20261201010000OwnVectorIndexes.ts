import { Migration } from '@mikro-orm/migrations';

/**
 * Document search at a million chunks: the one HNSW index over every user's chunks gives way to
 * an index per user with at least 10 000 ready chunks (partial, `where user_id = …`, named
 * `document_chunks_embedding_u<user id's hex>`); everyone else is searched exactly. A shared index
 * read with a user filter lost recall for questions near other users' data and grew with the whole
 * table (docs/architecture.md, Retrieval). Users already that big get their index here, built
 * inside the migration's transaction (chunks can't be written meanwhile; searches go on). Later
 * ones get theirs from the ingest worker (src/retrieval/ownVectorIndex.ts, whose DDL this repeats
 * so that this migration stays what it was when it ran).
 */
export class Migration20261201010000OwnVectorIndexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "document_chunks_embedding_hnsw"`);
    const users = (await this.execute(
      `select user_id::text as id from documents where status = 'ready'
        group by user_id having sum(chunk_count) >= 10000`,
    )) as { id: string }[];
    for (const { id } of users) {
      this.addSql(
        `create index if not exists "document_chunks_embedding_u${id.replaceAll('-', '')}"
           on document_chunks using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 128)
           where user_id = '${id}'::uuid`,
      );
    }
  }

  override async down(): Promise<void> {
    const indexes = (await this.execute(
      `select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid
        where i.indrelid = 'document_chunks'::regclass and c.relname like 'document\\_chunks\\_embedding\\_u%'`,
    )) as { name: string }[];
    for (const { name } of indexes) this.addSql(`drop index if exists "${name}"`);
    this.addSql(
      `create index if not exists "document_chunks_embedding_hnsw" on "document_chunks" using hnsw ("embedding" vector_cosine_ops) with (m = 16, ef_construction = 64)`,
    );
  }
}
