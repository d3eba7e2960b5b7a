/**
 * Renders of ended answers that are not urgent (older messages of a page that just opened) run
 * in small batches, each its own task of at most a few milliseconds, so opening a conversation of
 * long answers never blocks the page for the sum of them.
 */
const BUDGET_MS = 8;
const jobs: (() => void)[] = [];
const channel = new MessageChannel();

channel.port1.onmessage = () => {
  const started = performance.now();
  while (jobs.length > 0 && performance.now() - started < BUDGET_MS) jobs.pop()!();
  if (jobs.length > 0) channel.port2.postMessage(null);
};

/** Queues `job` (the latest queued runs first: the newest messages are at the bottom, in view). */
export function renderSoon(job: () => void): () => void {
  jobs.push(job);
  if (jobs.length === 1) channel.port2.postMessage(null);
  return () => {
    const index = jobs.indexOf(job);
    if (index >= 0) jobs.splice(index, 1);
  };
}
