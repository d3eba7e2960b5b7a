import { runWorkerProcess } from './runWorkerProcess.ts';

/** `npm run start:worker`: the queues named in WORKER_QUEUES (default all). */
runWorkerProcess();
