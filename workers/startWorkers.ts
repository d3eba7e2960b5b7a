import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, UnrecoverableError, type Worker } from 'bullmq';
import type { Runtime } from '../src/compose/runtime.ts';
import { composeWorker, type WorkerOptions } from '../src/compose/worker.ts';
import type { QueueName } from '../src/config.ts';
import { scheduleMaintenance } from '../src/maintenance/schedule.ts';
import { subscribeToCancels, USER_CANCEL_REASON } from '../src/queues/cancels.ts';
import { StartAsFetchedWorker } from '../src/queues/StartAsFetchedWorker.ts';
import type { Task } from './Task.ts';
import { createTasks } from './tasks/index.ts';

/**
 * Starts one BullMQ worker per named queue. Each job is dispatched by name to its task, with a
 * forked entity manager and an abort signal. On shutdown a worker stops taking jobs and waits
 * for the running ones up to SHUTDOWN_TIMEOUT_MS; after that it is forced, and what it held
 * comes back through BullMQ's stalled-job recovery on another worker.
 */
export async function startWorkers(
  runtime: Runtime,
  queueNames: QueueName[],
  options: WorkerOptions = {},
): Promise<Worker[]> {
  const { config, logger, orm, redis, shutdown } = runtime;
  // Answers retrieve from documents and ingestion embeds them: load and check the model first.
  if (queueNames.includes('chat') || queueNames.includes('ingest'))
    await runtime.embedderHealth.startUp(logger);
  const parts = await composeWorker(runtime, queueNames, options);
  const { notify } = parts.relay;
  const tasks = createTasks(parts);

  const workers = queueNames.map((queueName) => {
    // Every catalog name has a task (TaskRegistry); a name from outside the catalog can still arrive
    // through Redis (an old or foreign producer), so the lookup may miss.
    const queueTasks: Partial<Record<string, Task<unknown>>> = tasks[queueName];
    // Each job starts as it is fetched, not after the whole burst has been fetched.
    const worker = new StartAsFetchedWorker(
      queueName,
      async (job: Job, _token?: string, signal?: AbortSignal) => {
        const task = queueTasks[job.name];
        if (!task) throw new UnrecoverableError(`no task handles "${job.name}" on the ${queueName} queue`);
        const jobLogger = logger.child({ queue: queueName, job: job.name, jobId: job.id });
        return task.perform(job.data, {
          job,
          logger: jobLogger,
          em: orm.em.fork(),
          config,
          notify,
          signal: signal ?? new AbortController().signal,
        });
      },
      {
        connection: redis.create('blocking', `worker:${queueName}`),
        prefix: runtime.queues.bullmqPrefix,
        concurrency: config.workers.concurrency[queueName],
        lockDuration: config.workers.lockMs,
        stalledInterval: config.workers.lockMs,
      },
    );

    const timeJob = (job: Job, outcome: 'completed' | 'failed') => {
      if (job.processedOn && job.finishedOn) {
        runtime.metrics.jobDuration.observe(
          { queue: queueName, job: job.name, outcome },
          (job.finishedOn - job.processedOn) / 1000,
        );
      }
    };
    worker.on('completed', (job) => timeJob(job, 'completed'));
    worker.on('failed', (job, error) => {
      if (!job) return;
      timeJob(job, 'failed');
      const attempts = job.opts.attempts ?? 1;
      const final = job.attemptsMade >= attempts || error instanceof UnrecoverableError;
      logger.warn(
        {
          queue: queueName,
          job: job.name,
          jobId: job.id,
          attempt: job.attemptsMade,
          final,
          err: error.message,
        },
        'job failed',
      );
      const task = queueTasks[job.name];
      if (final && task) {
        task
          .onFailed(job.data, error, { job, logger, em: orm.em.fork(), config, notify })
          .catch((failure: Error) =>
            logger.error({ jobId: job.id, err: failure.message }, 'onFailed handler failed'),
          );
      }
    });
    worker.on('error', (error) => logger.warn({ queue: queueName, err: error.message }, 'worker error'));
    return worker;
  });

  if (queueNames.includes('maintenance')) {
    scheduleMaintenance(runtime.queues, config).catch((error: Error) =>
      logger.error({ err: error.message }, 'maintenance schedule not registered'),
    );
  }

  // A cancel published by any edge reaches every worker; the one holding the job aborts it
  // (cancelJob is a no-op for a job this worker doesn't run).
  subscribeToCancels(redis.create('pubsub', 'cancel-subscriber'), config.redis.queuePrefix, (jobId) => {
    for (const worker of workers) worker.cancelJob(jobId, USER_CANCEL_REASON);
  });

  shutdown.add('intake', 'workers', () =>
    Promise.all(
      workers.map(async (worker) => {
        const drained = worker.close().then(() => true);
        const inTime = await Promise.race([drained, sleep(config.workers.shutdownTimeoutMs, false)]);
        if (!inTime) {
          logger.warn({ queue: worker.name }, 'running jobs did not finish in time; handing them back');
          await worker.close(true);
        }
      }),
    ),
  );
  logger.info({ queues: queueNames }, 'workers started');
  return workers;
}
