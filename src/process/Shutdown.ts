import type { Logger } from '../logger.ts';

/**
 * Shutdown happens in phases, whatever order the parts were started in:
 * `intake` stops taking work (HTTP, sockets, workers finish or hand back their jobs),
 * `connections` closes queues, Redis and the database, `services` stops what we spawned.
 */
export const SHUTDOWN_PHASES = ['intake', 'connections', 'services'] as const;
export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

interface Step {
  phase: ShutdownPhase;
  name: string;
  run: () => Promise<unknown>;
}

/** Closing a connection should be quick; one that is stuck (its server gone) must not stall the exit. */
const CLOSE_DEADLINE_MS = 5_000;

async function withDeadline(step: Step, deadlineMs: number | undefined): Promise<void> {
  if (deadlineMs === undefined) {
    await step.run();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    await Promise.race([step.run(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Once-only, ordered shutdown; a failing step is logged and the rest still run. */
export class Shutdown {
  private readonly steps: Step[] = [];
  private running?: Promise<void>;
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  add(phase: ShutdownPhase, name: string, run: () => Promise<unknown>): void {
    this.steps.push({ phase, name, run });
  }

  run(reason: string): Promise<void> {
    this.running ??= (async () => {
      this.logger.info({ reason }, 'shutting down');
      for (const phase of SHUTDOWN_PHASES) {
        // Steps of one phase are independent of each other: run them together.
        await Promise.all(
          this.steps
            .filter((step) => step.phase === phase)
            .map(async (step) => {
              try {
                await withDeadline(step, phase === 'intake' ? undefined : CLOSE_DEADLINE_MS);
              } catch (error) {
                this.logger.warn({ step: step.name, err: (error as Error).message }, 'shutdown step failed');
              }
            }),
        );
      }
      this.logger.info('shutdown complete');
    })();
    return this.running;
  }

  /** SIGTERM / SIGINT → shut down, then exit 0. */
  exitOnSignals(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        void this.run(signal).then(() => process.exit(0));
      });
    }
  }
}
