import { setTimeout as sleep } from 'node:timers/promises';
import type { ProbePayload } from '../../src/queues/jobs.ts';
import { Task, type TaskContext } from '../Task.ts';

/** Answers a `system:ping`: proves the path edge → queue → worker → relay → socket works. */
export class ProbeTask extends Task<ProbePayload> {
  async perform(payload: ProbePayload, { job, notify, signal }: TaskContext) {
    if (payload.holdMs) await sleep(Math.min(payload.holdMs, 60_000), undefined, { signal });
    const reply = {
      nonce: payload.nonce,
      workerPid: process.pid,
      enqueuedAt: new Date(job.timestamp).toISOString(),
      processedAt: new Date().toISOString(),
    };
    if (payload.socketId) notify.socket(payload.socketId, 'system:pong', reply);
    return reply;
  }
}
