import type { Worker } from 'bullmq';
import type { Logger } from '../logger.ts';
import type { FetchHeartbeats } from './FetchHeartbeats.ts';
import type { StartAsFetchedWorker } from './StartAsFetchedWorker.ts';

export interface WatchOptions {
  /** A loop that has not moved for this long, with a free slot and no rate limit, has stalled. */
  stallMs: number;
  /** How often loops are checked and their heartbeat written. */
  checkMs: number;
  /** False: a stalled worker only stops beating (readiness tells), it is not replaced. */
  replaceStalled?: boolean;
}

/** BullMQ's blocking wait is at most 10 s (plus its own 1 s watchdog): 30 s without a move is a hang. */
export const DEFAULT_WATCH: WatchOptions = { stallMs: 30_000, checkMs: 5_000 };

/**
 * One worker per queue, whose fetch loop is watched. After a Redis Cluster failover a worker's
 * loop could stop for good (its blocking wait, or the reconnect after it, never settled; its
 * connections sat idle on the promoted master while jobs waited). A loop that moves writes a
 * heartbeat (FetchHeartbeats) on each check; one that has stalled is replaced: a new worker with
 * new connections takes the queue, and the old one is closed gracefully in the background, so
 * the jobs it still runs finish and are recorded (its close may never return if its loop stays
 * hung; it then lingers until shutdown, taking no new job).
 */
export class WatchedWorkers {
  private readonly create: (queue: string) => StartAsFetchedWorker;
  private readonly heartbeats: FetchHeartbeats;
  private readonly logger: Logger;
  private readonly options: WatchOptions;
  private readonly current = new Map<string, StartAsFetchedWorker>();
  private readonly retiring = new Set<Worker>();
  private timer?: NodeJS.Timeout;
  /** How many stalled workers were replaced (for tests and logs). */
  replaced = 0;

  constructor(deps: {
    create: (queue: string) => StartAsFetchedWorker;
    heartbeats: FetchHeartbeats;
    logger: Logger;
    options?: WatchOptions;
  }) {
    this.create = deps.create;
    this.heartbeats = deps.heartbeats;
    this.logger = deps.logger;
    this.options = deps.options ?? DEFAULT_WATCH;
  }

  start(queues: string[]): void {
    for (const queue of queues) this.current.set(queue, this.create(queue));
    void this.check().catch(() => undefined); // the first beat at once: readiness needn't wait for it
    this.timer = setInterval(() => {
      this.check().catch((error: Error) =>
        this.logger.warn({ err: error.message }, 'worker fetch loops not checked'),
      );
    }, this.options.checkMs);
    this.timer.unref();
  }

  /** Every worker that may still run a job: the current ones and those being retired. */
  all(): Worker[] {
    return [...this.current.values(), ...this.retiring];
  }

  /** Stops watching; the workers are the caller's to close. */
  stop(): void {
    clearInterval(this.timer);
  }

  async check(now = Date.now()): Promise<void> {
    const beats: Promise<void>[] = [];
    for (const [queue, worker] of this.current) {
      if (worker.closing) continue;
      if (!this.stalled(worker, now)) {
        // A new worker beats once its loop has moved (or it is busy): making it proves nothing.
        const { lastProgressAt, active } = worker.fetchLoop;
        if (lastProgressAt !== undefined || active >= worker.concurrency)
          beats.push(this.heartbeats.beat(queue, worker.id, now));
        continue;
      }
      // With Redis away no loop moves: that is the outage, not a hang (and no worker would do better).
      if (this.options.replaceStalled !== false && (await this.heartbeats.reachable(queue)))
        this.replace(queue, worker, now);
    }
    // A heartbeat that can't be written (Redis away) is simply missing: readiness tells.
    await Promise.allSettled(beats);
  }

  private stalled(worker: StartAsFetchedWorker, now: number): boolean {
    const { lastProgressAt, createdAt, active } = worker.fetchLoop;
    if (now - (lastProgressAt ?? createdAt) <= this.options.stallMs) return false;
    // Busy with every slot, or held off by a rate limit: the loop has nothing to fetch for.
    return active < worker.concurrency && !worker.rateLimited && worker.isRunning();
  }

  private replace(queue: string, stalled: StartAsFetchedWorker, now: number): void {
    this.logger.error(
      {
        queue,
        worker: stalled.id,
        stalledForMs: now - (stalled.fetchLoop.lastProgressAt ?? stalled.fetchLoop.createdAt),
        running: stalled.fetchLoop.active,
      },
      'worker fetch loop stalled; replacing the worker',
    );
    this.replaced += 1;
    this.current.set(queue, this.create(queue));
    this.retiring.add(stalled);
    stalled
      .close()
      .catch((error: Error) => this.logger.warn({ queue, err: error.message }, 'stalled worker not closed'))
      .finally(() => this.retiring.delete(stalled));
  }
}
