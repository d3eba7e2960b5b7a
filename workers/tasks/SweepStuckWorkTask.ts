import type { StuckWorkSweeper } from '../../src/maintenance/StuckWorkSweeper.ts';
import type { SweepPayload } from '../../src/queues/jobs.ts';
import { Task, type TaskContext } from '../Task.ts';

/**
 * Every minute: ends answers and documents whose job can no longer finish them (see
 * StuckWorkSweeper), so an outage that outlasted a job's retries is resolved within minutes of
 * the database coming back, not at the next daily run.
 */
export class SweepStuckWorkTask extends Task<SweepPayload> {
  private readonly sweeper: StuckWorkSweeper;

  constructor(sweeper: StuckWorkSweeper) {
    super();
    this.sweeper = sweeper;
  }

  perform(payload: SweepPayload, { em }: TaskContext) {
    return this.sweeper.sweep(em, payload.graceMs);
  }
}
