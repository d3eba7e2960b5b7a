import type { QueueName } from '../../src/config.ts';
import { Mailer } from '../../src/mail/Mailer.ts';
import type { JobCatalog } from '../../src/queues/jobs.ts';
import type { Runtime } from '../../src/runtime.ts';
import type { Task } from '../Task.ts';
import { ProbeTask } from './ProbeTask.ts';
import { SendVerificationEmailTask } from './SendVerificationEmailTask.ts';

export type TaskRegistry = { [Q in QueueName]: { [N in keyof JobCatalog[Q]]?: Task<JobCatalog[Q][N]> } };

/** Which task runs each job name of each queue. A queue's worker runs only its own tasks. */
export function createTasks({ config, logger, accessTokens }: Runtime): TaskRegistry {
  const publicUrl = config.http.publicUrl ?? `http://localhost:${config.http.port}`;
  const mailer = new Mailer(config.smtpUrl, `Parley <no-reply@${new URL(publicUrl).hostname}>`, logger);
  return {
    chat: {},
    ingest: {},
    maintenance: {
      probe: new ProbeTask(),
      'send-verification-email': new SendVerificationEmailTask(mailer, accessTokens, publicUrl),
    },
  };
}
