import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * This process's Prometheus metrics, one registry per process (no global default registry).
 * Edges expose it at /metrics; worker processes on WORKER_METRICS_PORT; the one-process mode
 * has a single registry for both.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly activeSockets = new Gauge({
    name: 'parley_active_sockets',
    help: 'Socket.IO connections open on this edge node',
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'parley_job_duration_seconds',
    help: 'Time a worker spent on a job, by queue, job name and outcome',
    labelNames: ['queue', 'job', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 180],
    registers: [this.registry],
  });

  readonly chatTimeToFirstToken = new Histogram({
    name: 'parley_chat_time_to_first_token_seconds',
    help: 'From the model request to its first token',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });

  readonly chatTokensPerSecond = new Histogram({
    name: 'parley_chat_tokens_per_second',
    help: 'Completion tokens per second of each finished answer',
    buckets: [10, 25, 50, 100, 200, 400, 800, 1600],
    registers: [this.registry],
  });

  /** An answer went to a fallback model because the one before failed before its first token. */
  readonly llmFallbacks = new Counter({
    name: 'parley_llm_fallbacks_total',
    help: 'Answers handed to a fallback model before their first token, by the model that failed and the next',
    labelNames: ['from', 'to'] as const,
    registers: [this.registry],
  });

  readonly ingestChunksPerSecond = new Histogram({
    name: 'parley_ingest_chunks_per_second',
    help: 'Chunks embedded and stored per second, per ingested document',
    buckets: [1, 5, 10, 25, 50, 100, 250],
    registers: [this.registry],
  });

  readonly retentionRemovals = new Counter({
    name: 'parley_maintenance_removed_total',
    help: 'Rows and keys removed or repaired by maintenance runs, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /** Jobs per queue and state, read through `read` when scraped (edges only). */
  trackQueueJobs(read: () => Promise<{ queue: string; state: string; count: number }[]>): void {
    new Gauge({
      name: 'parley_queue_jobs',
      help: 'Jobs per queue and state, read from Redis when scraped',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        // A Redis error leaves the previous values rather than failing the whole scrape.
        for (const { queue, state, count } of await read().catch(() => [])) this.set({ queue, state }, count);
      },
    });
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
  }

  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
