import type { WorkerParts } from '../../src/compose/worker.ts';
import type { QueueName } from '../../src/config.ts';
import type { JobCatalog } from '../../src/queues/jobs.ts';
import type { Task } from '../Task.ts';
import { EmbedMessagesTask } from './EmbedMessagesTask.ts';
import { GenerateReplyTask } from './GenerateReplyTask.ts';
import { GenerateTitleTask } from './GenerateTitleTask.ts';
import { IngestDocumentTask } from './IngestDocumentTask.ts';
import { MaintenanceRunTask } from './MaintenanceRunTask.ts';
import { ProbeTask } from './ProbeTask.ts';
import { SendVerificationEmailTask } from './SendVerificationEmailTask.ts';
import { SummarizeConversationTask } from './SummarizeConversationTask.ts';
import { SweepStuckWorkTask } from './SweepStuckWorkTask.ts';

/** Every job name of the catalog has its task: a job added to JobCatalog without one doesn't compile. */
export type TaskRegistry = { [Q in QueueName]: { [N in keyof JobCatalog[Q]]-?: Task<JobCatalog[Q][N]> } };

/**
 * Which task runs each job name of each queue: each a thin adapter over the process's parts
 * (src/compose/worker.ts). A queue's worker runs only its own tasks.
 */
export function createTasks({ runtime, answers, documents, maintenance }: WorkerParts): TaskRegistry {
  const { config, metrics, accessTokens } = runtime;
  return {
    chat: {
      'generate-reply': new GenerateReplyTask(answers.run),
      'generate-title': new GenerateTitleTask(answers.titler),
      'summarize-conversation': new SummarizeConversationTask(answers.summarizer),
    },
    ingest: {
      'ingest-document': new IngestDocumentTask({ pipeline: documents.pipeline, metrics }),
      'embed-messages': new EmbedMessagesTask(documents.indexer),
    },
    maintenance: {
      probe: new ProbeTask(),
      'maintenance-run': new MaintenanceRunTask({
        config,
        metrics,
        retention: maintenance.retention,
        replayLogs: maintenance.replayLogs,
        sweeper: maintenance.sweeper,
      }),
      'sweep-stuck-work': new SweepStuckWorkTask(maintenance.sweeper),
      'send-verification-email': new SendVerificationEmailTask(
        maintenance.mailer,
        accessTokens,
        maintenance.publicUrl,
      ),
    },
  };
}
