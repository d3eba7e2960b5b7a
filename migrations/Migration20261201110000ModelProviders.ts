import { Migration } from '@mikro-orm/migrations';

/**
 * Admin-configured model providers (OpenAI-compatible endpoints, their models and fallbacks, the
 * API key sealed) and each conversation's chosen model (null: the admin's default).
 */
export class Migration20261201110000ModelProviders extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "model_providers" (
      "id" uuid not null primary key,
      "name" varchar(50) not null,
      "kind" text check ("kind" in ('openai-compatible')) not null,
      "base_url" varchar(500) not null,
      "api_key_sealed" text null,
      "timeout_ms" int not null default 60000,
      "models" jsonb not null,
      "created_at" timestamptz not null default now(),
      "updated_at" timestamptz not null default now())`);
    this.addSql(`alter table "model_providers" add constraint "model_providers_name_unique" unique ("name")`);
    this.addSql(`alter table "conversations" add column "model" varchar(200) null`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "conversations" drop column "model"`);
    this.addSql(`drop table "model_providers"`);
  }
}
