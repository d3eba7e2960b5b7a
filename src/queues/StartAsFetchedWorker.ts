import { type Job, Worker } from 'bullmq';

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
 */
export class StartAsFetchedWorker<
  Data = unknown,
  Result = unknown,
  Name extends string = string,
> extends Worker<Data, Result, Name> {
  #handOff = false;

  protected override async moveToActive(token: string, name?: string): Promise<Job<Data, Result, Name>> {
    if (this.#handOff) {
      this.#handOff = false;
      return undefined as unknown as Job<Data, Result, Name>;
    }
    const job = await super.moveToActive(token, name);
    this.#handOff = job !== undefined;
    return job;
  }

  override processJob(...args: Parameters<Worker<Data, Result, Name>['processJob']>) {
    this.#handOff = false;
    return super.processJob(...args);
  }
}
