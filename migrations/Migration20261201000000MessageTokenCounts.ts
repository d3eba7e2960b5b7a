import { Migration } from '@mikro-orm/migrations';

/**
 * Each message's token count (Llama 3's BPE, without the per-message overhead), stored when the
 * message is written, so a prompt is budgeted without tokenizing every earlier turn again.
 * Existing rows stay null: an answer counts them when it reads them and stores what it counted.
 */
export class Migration20261201000000MessageTokenCounts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "messages" add column "token_count" int null`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "messages" drop column "token_count"`);
  }
}
