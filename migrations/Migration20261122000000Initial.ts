import { Migration } from '@mikro-orm/migrations';

/** The whole data model of ARCHITECTURE.md, plus the pgvector extension it needs. */
export class Migration20261122000000Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create extension if not exists vector`);
    this.addSql(
      `create table "settings" ("key" varchar(100) not null, "value" jsonb not null, "updated_at" timestamptz not null default now(), primary key ("key"))`,
    );
    this.addSql(
      `create table "users" ("id" uuid not null, "email" varchar(320) not null, "password_hash" text not null, "name" varchar(200) null, "role" text not null default 'user', "email_verified_at" timestamptz null, "disabled_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(`create unique index "users_email_lower_unique" on "users" (lower("email"))`);
    this.addSql(`alter table "users" add constraint "users_role_check" check ("role" in ('user', 'admin'))`);
    this.addSql(
      `create table "refresh_tokens" ("id" uuid not null, "user_id" uuid not null, "token_hash" varchar(64) not null, "family" uuid not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "replaced_by_id" uuid null, "created_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(`create index "refresh_tokens_user_id_index" on "refresh_tokens" ("user_id")`);
    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_token_hash_unique" unique ("token_hash")`,
    );
    this.addSql(`create index "refresh_tokens_family_index" on "refresh_tokens" ("family")`);
    this.addSql(`create index "refresh_tokens_expires_at_index" on "refresh_tokens" ("expires_at")`);
    this.addSql(
      `create table "documents" ("id" uuid not null, "user_id" uuid not null, "filename" varchar(255) not null, "mime" varchar(100) not null, "size" int not null, "sha256" varchar(64) not null, "status" text not null default 'queued', "progress" double precision not null default 0, "error" text null, "chunk_count" int not null default 0, "page_count" int null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(`create index "documents_user_created_idx" on "documents" ("user_id", "created_at")`);
    this.addSql(
      `alter table "documents" add constraint "documents_user_sha256_unique" unique ("user_id", "sha256")`,
    );
    this.addSql(
      `alter table "documents" add constraint "documents_status_check" check ("status" in ('queued', 'processing', 'ready', 'failed'))`,
    );
    this.addSql(
      `create table "document_files" ("document_id" uuid not null, "bytes" bytea not null, "created_at" timestamptz not null default now(), primary key ("document_id"))`,
    );
    this.addSql(
      `create table "document_chunks" ("id" uuid not null, "document_id" uuid not null, "user_id" uuid not null, "ordinal" int not null, "page" int null, "content" text not null, "token_count" int not null, "embedding" vector(384) not null, "search_vector" tsvector generated always as (to_tsvector('english'::regconfig, coalesce(content, ''))) stored null, "created_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(`create index "document_chunks_user_id_index" on "document_chunks" ("user_id")`);
    this.addSql(
      `create index "document_chunks_embedding_hnsw" on "document_chunks" using hnsw ("embedding" vector_cosine_ops) with (m = 16, ef_construction = 64)`,
    );
    this.addSql(`create index "document_chunks_search_gin" on "document_chunks" using gin ("search_vector")`);
    this.addSql(
      `alter table "document_chunks" add constraint "document_chunks_document_ordinal_unique" unique ("document_id", "ordinal")`,
    );
    this.addSql(
      `create table "conversations" ("id" uuid not null, "user_id" uuid not null, "title" varchar(200) null, "mode" text not null default 'chat', "summary" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "last_message_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(
      `create index "conversations_user_last_message_idx" on "conversations" ("user_id", "last_message_at")`,
    );
    this.addSql(
      `alter table "conversations" add constraint "conversations_mode_check" check ("mode" in ('chat', 'grounded'))`,
    );
    this.addSql(
      `create table "messages" ("id" uuid not null, "conversation_id" uuid not null, "user_id" uuid not null, "reply_to" uuid null, "role" text not null, "content" text not null default '', "status" text not null default 'complete', "client_message_id" varchar(100) null, "model" varchar(200) null, "prompt_tokens" int null, "completion_tokens" int null, "ttft_ms" int null, "latency_ms" int null, "error" text null, "citations" jsonb null, "embedding" vector(384) null, "search_vector" tsvector generated always as (to_tsvector('english'::regconfig, coalesce(content, ''))) stored null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(`create index "messages_user_id_index" on "messages" ("user_id")`);
    this.addSql(`create index "messages_reply_to_index" on "messages" ("reply_to")`);
    this.addSql(`create index "messages_conversation_id_idx" on "messages" ("conversation_id", "id")`);
    this.addSql(`create index "messages_status_idx" on "messages" ("status")`);
    this.addSql(
      `create index "messages_embedding_hnsw" on "messages" using hnsw ("embedding" vector_cosine_ops) with (m = 16, ef_construction = 64)`,
    );
    this.addSql(`create index "messages_search_gin" on "messages" using gin ("search_vector")`);
    this.addSql(
      `alter table "messages" add constraint "messages_user_client_message_unique" unique ("user_id", "client_message_id")`,
    );
    this.addSql(
      `alter table "messages" add constraint "messages_role_check" check ("role" in ('user', 'assistant', 'system'))`,
    );
    this.addSql(
      `alter table "messages" add constraint "messages_status_check" check ("status" in ('pending', 'streaming', 'complete', 'failed', 'cancelled'))`,
    );
    this.addSql(
      `create table "conversation_documents" ("conversation_id" uuid not null, "document_id" uuid not null, primary key ("conversation_id", "document_id"))`,
    );
    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "documents" add constraint "documents_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "document_files" add constraint "document_files_document_id_foreign" foreign key ("document_id") references "documents" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "document_chunks" add constraint "document_chunks_document_id_foreign" foreign key ("document_id") references "documents" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "document_chunks" add constraint "document_chunks_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "conversations" add constraint "conversations_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "messages" add constraint "messages_conversation_id_foreign" foreign key ("conversation_id") references "conversations" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "messages" add constraint "messages_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "conversation_documents" add constraint "conversation_documents_conversation_id_foreign" foreign key ("conversation_id") references "conversations" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "conversation_documents" add constraint "conversation_documents_document_id_foreign" foreign key ("document_id") references "documents" ("id") on update cascade on delete cascade`,
    );
  }

  override async down(): Promise<void> {
    for (const table of [
      'conversation_documents',
      'messages',
      'conversations',
      'document_chunks',
      'document_files',
      'documents',
      'refresh_tokens',
      'users',
      'settings',
    ]) {
      this.addSql(`drop table if exists "${table}" cascade`);
    }
  }
}
