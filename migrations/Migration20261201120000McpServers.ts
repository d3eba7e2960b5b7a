import { Migration } from '@mikro-orm/migrations';

/**
 * MCP servers an admin registers (issue 14): their tools are offered to the model. Headers are
 * stored sealed (AES-256-GCM, key derived from JWT_SECRET); only their names are in the clear.
 */
export class Migration20261201120000McpServers extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "mcp_servers" ("id" uuid not null, "name" varchar(32) not null, "url" text not null, "headers_sealed" text null, "header_names" jsonb not null, "enabled_tools" jsonb null, "enabled" boolean not null default true, "timeout_ms" int not null default 30000, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(`alter table "mcp_servers" add constraint "mcp_servers_name_unique" unique ("name")`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "mcp_servers"`);
  }
}
