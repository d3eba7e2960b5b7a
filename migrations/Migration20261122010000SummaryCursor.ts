import { Migration } from '@mikro-orm/migrations';

/** Remembers how far the rolling summary of a conversation reaches. */
export class Migration20261122010000SummaryCursor extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "conversations" add column "summary_through_id" uuid null`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "conversations" drop column "summary_through_id"`);
  }
}
