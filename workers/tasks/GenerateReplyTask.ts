import { UnrecoverableError } from 'bullmq';
import { AnswerEndedError, type ReplyRun } from '../../src/answers/ReplyRun.ts';
import type { GenerateReplyPayload } from '../../src/queues/jobs.ts';
import { Task, type TaskContext } from '../Task.ts';

/**
 * Fills one assistant message: the payload goes to the answer's run (src/answers/ReplyRun.ts).
 * An answer the run ended and told its tabs about must not be retried by BullMQ (a retry would
 * duplicate text); anything unexpected is retried, and the last attempt ends the answer.
 */
export class GenerateReplyTask extends Task<GenerateReplyPayload> {
  private readonly run: ReplyRun;

  constructor(run: ReplyRun) {
    super();
    this.run = run;
  }

  async perform(payload: GenerateReplyPayload, { em, signal, logger }: TaskContext) {
    try {
      return await this.run.answer(payload, { em, signal, logger });
    } catch (error) {
      if (error instanceof AnswerEndedError) throw new UnrecoverableError(error.message);
      throw error;
    }
  }

  override async onFailed(
    payload: GenerateReplyPayload,
    error: Error,
    { logger }: Omit<TaskContext, 'signal'>,
  ) {
    await this.run.endAfterLastAttempt(payload, error, logger);
  }
}
