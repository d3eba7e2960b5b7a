import { runWorkerProcess } from './runWorkerProcess.ts';

/** A worker process for the maintenance queue only. */
runWorkerProcess(['maintenance']);
