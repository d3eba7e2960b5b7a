import { type Job, Worker } from 'bullmq';

/** How the fetch loop of a worker stands, for FetchLoopWatch. */
export interface FetchLoopState {
  /** When the worker was made: a loop that never moved is measured from here. */
  createdAt: number;
  /** When a fetch last returned (a blocking wait ended, a job was taken) or a job ended. */
  lastProgressAt?: number;
  /** Jobs this worker runs now. */
  active: number;
}

/**
 * A BullMQ Worker that starts each job as soon as it has fetched it.
 *
 * BullMQ 6's main loop fetches jobs one after another while it has free slots and starts none of
 * them until a fetch comes back empty. Under a burst (200 sends in 300 ms) that holds every job
 * until the queue is drained: the first answer waited for the last send, and one worker process
 * took the whole burst before another woke. Here every fetch that returns a job is followed by
 * one that reports "nothing yet" without asking Redis, which ends the fetch round, so the loop
 * starts that job and comes straight back for the next. Nothing is popped by the reported miss,
 * so no job can be lost by it; `drained` stays false, so the next fetch asks Redis again. A round
 * that ends for another reason (all slots taken) leaves the miss unreported: starting a job clears
 * it, so a later fetch — after a blocking wait, say — always asks Redis.
 *
 * It also keeps `fetchLoop`: when its fetch loop last moved, so a watch can tell a loop that
 * stopped (a blocking call that never returned after a failover) from one that waits or is busy.
 */
export class StartAsFetchedWorker<
  Data = unknown,
  Result = unknown,
  Name extends string = string,
> extends Worker<Data, Result, Name> {
  #handOff = false;
  readonly fetchLoop: FetchLoopState = { createdAt: Date.now(), active: 0 };

  override run(): Promise<void> {
    // The blocking wait is private to BullMQ's Worker: wrapped on the instance, not overridden.
    // (run may be called from Worker's constructor, before this class's fields exist.)
    const self = this as unknown as {
      waitForJob: ((...wait: unknown[]) => Promise<number>) & { watched?: true };
    };
    if (self.waitForJob.watched) return super.run();
    const waitForJob = self.waitForJob.bind(this);
    self.waitForJob = async (...wait: unknown[]) => {
      try {
        return await waitForJob(...wait);
      } finally {
        this.fetchLoop.lastProgressAt = Date.now();
      }
    };
    self.waitForJob.watched = true;
    return super.run();
  }

  /** True while BullMQ holds off fetching because of a rate limit (not a stalled loop). */
  get rateLimited(): boolean {
    return (this as unknown as { isRateLimited: () => boolean }).isRateLimited();
  }

  protected override async moveToActive(token: string, name?: string): Promise<Job<Data, Result, Name>> {
    if (this.#handOff) {
      this.#handOff = false;
      return undefined as unknown as Job<Data, Result, Name>;
    }
    try {
      const job = await super.moveToActive(token, name);
      this.#handOff = job !== undefined;
      return job;
    } finally {
      this.fetchLoop.lastProgressAt = Date.now();
    }
  }

  override async processJob(...args: Parameters<Worker<Data, Result, Name>['processJob']>) {
    this.#handOff = false;
    this.fetchLoop.active += 1;
    try {
      return await super.processJob(...args);
    } finally {
      this.fetchLoop.active -= 1;
      this.fetchLoop.lastProgressAt = Date.now();
    }
  }
}
