import { Migration } from '@mikro-orm/migrations';

/**
 * A second provider kind, `websocket` (a custom service speaking Parley's WebSocket protocol),
 * and its optional field map (the server's names for the answer's fields).
 */
export class Migration20261208000000WebSocketProviders extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "model_providers" drop constraint if exists "model_providers_kind_check"`);
    this.addSql(
      `alter table "model_providers" add constraint "model_providers_kind_check" check ("kind" in ('openai-compatible', 'websocket'))`,
    );
    this.addSql(`alter table "model_providers" add column "field_map" jsonb null`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "model_providers" where "kind" = 'websocket'`);
    this.addSql(`alter table "model_providers" drop column "field_map"`);
    this.addSql(`alter table "model_providers" drop constraint if exists "model_providers_kind_check"`);
    this.addSql(
      `alter table "model_providers" add constraint "model_providers_kind_check" check ("kind" in ('openai-compatible'))`,
    );
  }
}
