import type { EntityManager } from '@mikro-orm/core';
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config.ts';
import { TERMINAL_MESSAGE_STATUSES } from '../../src/db/entities/Message.ts';
import { type MaintenanceCounts, saveLastRun } from '../../src/maintenance/MaintenanceReport.ts';
import type { StuckWorkSweeper } from '../../src/maintenance/StuckWorkSweeper.ts';
import type { Metrics } from '../../src/metrics/Metrics.ts';
import type { MaintenancePayload } from '../../src/queues/jobs.ts';
import type { Queues } from '../../src/queues/Queues.ts';
import { readSettings } from '../../src/settings/RuntimeSettings.ts';
import { Task, type TaskContext } from '../Task.ts';

/** Rows per delete statement: short transactions, never a long lock on a busy table. */
const BATCH = 500;
const DAY_MS = 24 * 3_600_000;
/** The daily run's sweep is a backstop for the frequent one (SweepStuckWorkTask): generous grace. */
const STUCK_AFTER_MS = 15 * 60_000;

/**
 * The daily housekeeping run (and the admin's "run now"): deletes conversations idle longer
 * than `retentionDays` (their messages go with them), expired refresh tokens, replay logs that
 * never got their expiry, and ends answers and documents whose job is gone. Each part works in
 * bounded batches and is idempotent: a second run finds nothing left to do.
 */
export class MaintenanceRunTask extends Task<MaintenancePayload> {
  private readonly config: Config;
  private readonly queues: Queues;
  private readonly redis: Redis;
  private readonly metrics: Metrics;
  private readonly sweeper: StuckWorkSweeper;

  constructor(deps: {
    config: Config;
    queues: Queues;
    redis: Redis;
    metrics: Metrics;
    sweeper: StuckWorkSweeper;
  }) {
    super();
    this.sweeper = deps.sweeper;
    this.metrics = deps.metrics;
    this.config = deps.config;
    this.queues = deps.queues;
    this.redis = deps.redis;
  }

  async perform(payload: MaintenancePayload, { em, logger }: TaskContext) {
    const startedAt = new Date();
    const { retentionDays } = await readSettings(em, this.config);
    const counts: MaintenanceCounts = {
      conversations:
        retentionDays > 0
          ? await this.deleteIdleConversations(em, new Date(startedAt.getTime() - retentionDays * DAY_MS))
          : 0,
      refreshTokens: await this.batchedDelete(em, 'refresh_tokens', 'expires_at < now()'),
      replayStreams: await this.expireOrphanReplayLogs(em),
      ...(await this.sweeper.sweep(em, STUCK_AFTER_MS).then(({ messages, documents }) => ({
        stuckMessages: messages,
        stuckDocuments: documents,
      }))),
    };
    const report = {
      trigger: payload.trigger,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      retentionDays,
      counts,
    };
    await saveLastRun(em, report);
    for (const [kind, count] of Object.entries(counts)) this.metrics.retentionRemovals.inc({ kind }, count);
    logger.info({ maintenance: report }, 'maintenance run finished');
    return report;
  }

  private deleteIdleConversations(em: EntityManager, before: Date): Promise<number> {
    return this.batchedDelete(em, 'conversations', 'last_message_at < ?', [before]);
  }

  private async batchedDelete(
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

  /** Replay logs get an expiry when their answer ends; a log whose writer died has none. */
  private async expireOrphanReplayLogs(em: EntityManager): Promise<number> {
    const prefix = `${this.config.redis.queuePrefix}:stream:`;
    let cursor = '0';
    let expired = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        if ((await this.redis.ttl(key)) !== -1) continue;
        const rows: { status: string }[] = await em
          .getConnection()
          .execute('select status from messages where id = ?', [key.slice(prefix.length)]);
        const finished = rows.length === 0 || TERMINAL_MESSAGE_STATUSES.includes(rows[0]!.status as never);
        if (finished) {
          await this.redis.expire(key, this.config.stream.ttlSeconds);
          expired += 1;
        }
      }
    } while (cursor !== '0');
    return expired;
  }
}
