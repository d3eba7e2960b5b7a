import type { Config } from '../config.ts';
import { JOB_OPTIONS, MAINTENANCE_SCHEDULER_ID, SWEEP_SCHEDULER_ID } from '../queues/jobs.ts';
import type { Queues } from '../queues/Queues.ts';

/** How often unfinished work whose job is gone is looked for, and how long it must be untouched. */
export const SWEEP_EVERY_MS = 60_000;
export const SWEEP_GRACE_MS = 2 * 60_000;

/**
 * Registers the daily maintenance run and the minutely sweep of stuck work. Upserting by a fixed id is idempotent: however many
 * workers start, there is one schedule and each tick produces one job.
 */
export const scheduleMaintenance = async (queues: Queues, config: Pick<Config, 'retentionCron'>) => {
  const maintenance = queues.get('maintenance');
  await maintenance.upsertJobScheduler(
    MAINTENANCE_SCHEDULER_ID,
    { pattern: config.retentionCron, tz: 'UTC' },
    {
      name: 'maintenance-run',
      data: { trigger: 'schedule' },
      opts: JOB_OPTIONS.maintenance['maintenance-run'],
    },
  );
  // Answers and documents left unfinished by an outage end within minutes of the database's return.
  await maintenance.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: SWEEP_EVERY_MS },
    {
      name: 'sweep-stuck-work',
      data: { graceMs: SWEEP_GRACE_MS },
      opts: JOB_OPTIONS.maintenance['sweep-stuck-work'],
    },
  );
};
