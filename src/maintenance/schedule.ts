import type { Config } from '../config.ts';
import { JOB_OPTIONS } from '../queues/jobs.ts';
import type { Queues } from '../queues/Queues.ts';

export const MAINTENANCE_SCHEDULER_ID = 'maintenance-run';

/**
 * Registers the daily maintenance run. Upserting by a fixed id is idempotent: however many
 * workers start, there is one schedule and each tick produces one job.
 */
export const scheduleMaintenance = (queues: Queues, config: Pick<Config, 'retentionCron'>) =>
  queues.get('maintenance').upsertJobScheduler(
    MAINTENANCE_SCHEDULER_ID,
    { pattern: config.retentionCron, tz: 'UTC' },
    {
      name: 'maintenance-run',
      data: { trigger: 'schedule' },
      opts: JOB_OPTIONS.maintenance['maintenance-run'],
    },
  );
