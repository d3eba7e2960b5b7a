import type { ConversationSummarizer } from '../../src/answers/ConversationSummarizer.ts';
import type { SummarizePayload } from '../../src/queues/jobs.ts';
import { Task, type TaskContext } from '../Task.ts';

/** Folds turns that left the context window into the conversation's summary (see ConversationSummarizer). */
export class SummarizeConversationTask extends Task<SummarizePayload> {
  private readonly summarizer: ConversationSummarizer;

  constructor(summarizer: ConversationSummarizer) {
    super();
    this.summarizer = summarizer;
  }

  perform(payload: SummarizePayload, { em, signal }: TaskContext) {
    return this.summarizer.summarize(em, payload, signal);
  }
}
