import type { EntityManager } from '@mikro-orm/core';

/** Rows per delete statement: short transactions, never a long lock on a busy table. */
const BATCH = 500;

/**
 * Deletes what retention no longer keeps: conversations idle too long (their messages go with
 * them) and expired refresh tokens. Works in bounded batches and is idempotent.
 */
export class RetentionSweep {
  /** Conversations whose last message is older than `before`; returns how many were deleted. */
  deleteIdleConversations(em: EntityManager, before: Date): Promise<number> {
    return batchedDelete(em, 'conversations', 'last_message_at < ?', [before]);
  }

  /** Refresh tokens past their expiry; returns how many were deleted. */
  deleteExpiredRefreshTokens(em: EntityManager): Promise<number> {
    return batchedDelete(em, 'refresh_tokens', 'expires_at < now()');
  }
}

async function batchedDelete(
  em: EntityManager,
  table: string,
  where: string,
  params: unknown[] = [],
): Promise<number> {
  const connection = em.getConnection();
  let total = 0;
  for (;;) {
    const rows: { id: string }[] = await connection.execute(
      `delete from "${table}" where id in (select id from "${table}" where ${where} limit ${BATCH}) returning id`,
      params,
    );
    total += rows.length;
    if (rows.length < BATCH) return total;
  }
}
