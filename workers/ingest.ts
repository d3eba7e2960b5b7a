import { runWorkerProcess } from './runWorkerProcess.ts';

/** A worker process for the ingest queue only. */
runWorkerProcess(['ingest']);
