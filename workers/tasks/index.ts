import type { QueueName } from '../../src/config.ts';
import type { JobCatalog } from '../../src/queues/jobs.ts';
import type { Task } from '../Task.ts';
import { ProbeTask } from './ProbeTask.ts';

export type TaskRegistry = { [Q in QueueName]: { [N in keyof JobCatalog[Q]]?: Task<JobCatalog[Q][N]> } };

/** Which task runs each job name of each queue. A queue's worker runs only its own tasks. */
export const createTasks = (): TaskRegistry => ({
  chat: {},
  ingest: {},
  maintenance: { probe: new ProbeTask() },
});
