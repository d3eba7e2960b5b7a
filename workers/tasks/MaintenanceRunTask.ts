import type { Config } from '../../src/config.ts';
import { type MaintenanceCounts, saveLastRun } from '../../src/maintenance/MaintenanceReport.ts';
import type { ReplayLogJanitor } from '../../src/maintenance/ReplayLogJanitor.ts';
import type { RetentionSweep } from '../../src/maintenance/RetentionSweep.ts';
import type { StuckWorkSweeper } from '../../src/maintenance/StuckWorkSweeper.ts';
import type { Metrics } from '../../src/metrics/Metrics.ts';
import type { MaintenancePayload } from '../../src/queues/jobs.ts';
import { readSettings } from '../../src/settings/RuntimeSettings.ts';
import { Task, type TaskContext } from '../Task.ts';

const DAY_MS = 24 * 3_600_000;
/** The daily run's sweep is a backstop for the frequent one (SweepStuckWorkTask): generous grace. */
const STUCK_AFTER_MS = 15 * 60_000;

/**
 * The daily housekeeping run (and the admin's "run now"): deletes conversations idle longer
 * than `retentionDays` and expired refresh tokens (RetentionSweep), gives replay logs that never
 * got their expiry one (ReplayLogJanitor), and ends answers and documents whose job is gone
 * (StuckWorkSweeper). Each part works in bounded batches and is idempotent: a second run finds
 * nothing left to do. The report is saved for the admin and counted in the metrics.
 */
export class MaintenanceRunTask extends Task<MaintenancePayload> {
  private readonly config: Config;
  private readonly metrics: Metrics;
  private readonly retention: RetentionSweep;
  private readonly replayLogs: ReplayLogJanitor;
  private readonly sweeper: StuckWorkSweeper;

  constructor(deps: {
    config: Config;
    metrics: Metrics;
    retention: RetentionSweep;
    replayLogs: ReplayLogJanitor;
    sweeper: StuckWorkSweeper;
  }) {
    super();
    this.config = deps.config;
    this.metrics = deps.metrics;
    this.retention = deps.retention;
    this.replayLogs = deps.replayLogs;
    this.sweeper = deps.sweeper;
  }

  async perform(payload: MaintenancePayload, { em, logger }: TaskContext) {
    const startedAt = new Date();
    const { retentionDays } = await readSettings(em, this.config);
    const counts: MaintenanceCounts = {
      conversations:
        retentionDays > 0
          ? await this.retention.deleteIdleConversations(
              em,
              new Date(startedAt.getTime() - retentionDays * DAY_MS),
            )
          : 0,
      refreshTokens: await this.retention.deleteExpiredRefreshTokens(em),
      replayStreams: await this.replayLogs.expireOrphans(em),
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
}
