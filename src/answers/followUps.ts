import type { Logger } from '../logger.ts';
import { embedJobId, type JobName, type JobPayload, summaryJobId, titleJobId } from '../queues/jobs.ts';
import type { Queues } from '../queues/Queues.ts';

/** Whose answer the follow-ups are for. */
export interface FollowUpTarget {
  userId: string;
  conversationId: string;
  messageId: string;
}

/**
 * The work an answer leaves behind, declared once: a title for a new conversation and search
 * embeddings of the turn once an answer completes, and a summary when older turns fell out of the
 * prompt. Each is a job of the catalog (src/queues/jobs.ts) with an id of its own, so enqueueing
 * one twice is a no-op. Nobody waits for them: a failed enqueue is logged and the answer stands.
 */
export class FollowUps {
  private readonly queues: Queues;

  constructor(queues: Queues) {
    this.queues = queues;
  }

  /** A completed answer: its conversation's title (if it has none yet) and the turn's embeddings. */
  afterComplete(target: FollowUpTarget, conversation: { title?: string | null }, logger: Logger): void {
    const { userId, conversationId, messageId } = target;
    if (!conversation.title)
      this.enqueue('chat', 'generate-title', { userId, conversationId }, titleJobId(conversationId), {
        logger,
        what: 'title',
      });
    this.enqueue('ingest', 'embed-messages', { userId, messageId }, embedJobId(messageId), {
      logger,
      what: 'message embedding',
    });
  }

  /** Turns fell out of the prompt: a low-priority job folds them into the conversation's summary. */
  summarize(target: FollowUpTarget, throughId: string, logger: Logger): void {
    const { userId, conversationId } = target;
    this.enqueue(
      'chat',
      'summarize-conversation',
      { userId, conversationId, throughId },
      summaryJobId(conversationId, throughId),
      { logger, what: 'summary' },
    );
  }

  private enqueue<Q extends 'chat' | 'ingest', N extends JobName<Q>>(
    queue: Q,
    name: N,
    payload: JobPayload<Q, N>,
    jobId: string,
    { logger, what }: { logger: Logger; what: string },
  ): void {
    this.queues
      .add(queue, name, payload, { jobId })
      .catch((error: Error) => logger.warn({ err: error.message }, `${what} not enqueued`));
  }
}
