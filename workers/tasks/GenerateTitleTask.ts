import { cleanTitle, titlePrompt } from '../../src/chat/prompts.ts';
import { Conversation } from '../../src/db/entities/Conversation.ts';
import { Message } from '../../src/db/entities/Message.ts';
import type { ConversationPayload } from '../../src/queues/jobs.ts';
import { readSettings } from '../../src/settings/RuntimeSettings.ts';
import { Task, type TaskContext } from '../Task.ts';
import type { ChatDependencies } from './chatDependencies.ts';

/** After the first exchange, a short title; the user's own title is never overwritten. */
export class GenerateTitleTask extends Task<ConversationPayload> {
  private readonly deps: ChatDependencies;

  constructor(deps: ChatDependencies) {
    super();
    this.deps = deps;
  }

  async perform({ userId, conversationId }: ConversationPayload, { em, signal, notify }: TaskContext) {
    const conversation = await em.findOne(Conversation, { id: conversationId, user: userId });
    if (!conversation || conversation.title) return { skipped: true };
    const [question, answer] = await Promise.all([
      em.findOne(Message, { conversation, role: 'user' }, { orderBy: { id: 'asc' } }),
      em.findOne(
        Message,
        { conversation, role: 'assistant', status: 'complete' },
        { orderBy: { id: 'asc' } },
      ),
    ]);
    if (!question) return { skipped: true };
    const settings = await readSettings(em, this.deps.config);
    const generated = await this.deps.provider
      .complete({
        model: settings.model,
        messages: titlePrompt(question.content, answer?.content ?? ''),
        temperature: 0.2,
        maxTokens: 24,
        signal,
      })
      .catch(() => '');
    const title =
      cleanTitle(generated) ??
      cleanTitle(question.content.split(/\s+/).slice(0, 6).join(' ')) ??
      'New conversation';
    // Only if still untitled: the user may have named it meanwhile.
    const updated = await em.nativeUpdate(
      Conversation,
      { id: conversationId, user: userId, title: null },
      { title },
    );
    if (updated > 0) notify.user(userId, 'conversation:updated', { conversationId, title });
    return { title };
  }
}
