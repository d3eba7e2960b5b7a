import { Migration } from '@mikro-orm/migrations';

/**
 * Tools: an answer keeps the tool calls it made (jsonb, null when none), and a conversation says
 * whether its answers may call tools (on by default; they do when the model supports tools).
 */
export class Migration20261201100000ToolCalls extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "messages" add column "tool_calls" jsonb null`);
    this.addSql(`alter table "conversations" add column "tools" boolean not null default true`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "messages" drop column "tool_calls"`);
    this.addSql(`alter table "conversations" drop column "tools"`);
  }
}
