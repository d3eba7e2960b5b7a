import type { ConversationTitler } from '../../src/answers/ConversationTitler.ts';
import type { ConversationPayload } from '../../src/queues/jobs.ts';
import { Task, type TaskContext } from '../Task.ts';

/** After the first exchange, a short title (see ConversationTitler), announced to the owner's tabs. */
export class GenerateTitleTask extends Task<ConversationPayload> {
  private readonly titler: ConversationTitler;

  constructor(titler: ConversationTitler) {
    super();
    this.titler = titler;
  }

  async perform({ userId, conversationId }: ConversationPayload, { em, signal, notify }: TaskContext) {
    const outcome = await this.titler.title(em, { userId, conversationId }, signal);
    if ('skipped' in outcome) return outcome;
    const { title } = outcome;
    if (outcome.saved) notify.user(userId, 'conversation:updated', { conversationId, title });
    return { title };
  }
}
