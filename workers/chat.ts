import { runWorkerProcess } from './runWorkerProcess.ts';

/** A worker process for the chat queue only. */
runWorkerProcess(['chat']);
