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
                await step.run();
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
