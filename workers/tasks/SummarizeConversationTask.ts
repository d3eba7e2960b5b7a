import { summaryPrompt } from '../../src/chat/prompts.ts';
import { Conversation } from '../../src/db/entities/Conversation.ts';
import { Message } from '../../src/db/entities/Message.ts';
import type { SummarizePayload } from '../../src/queues/jobs.ts';
import { readSettings } from '../../src/settings/RuntimeSettings.ts';
import { Task, type TaskContext } from '../Task.ts';
import type { ChatDependencies } from './chatDependencies.ts';

/** Transcript handed to the summariser per run, at most (older parts are in the previous summary). */
const TRANSCRIPT_CHARS = 24_000;

/**
 * Folds the turns that no longer fit the context window into the conversation's rolling
 * summary, so long conversations keep what was said early on.
 */
export class SummarizeConversationTask extends Task<SummarizePayload> {
  private readonly deps: ChatDependencies;

  constructor(deps: ChatDependencies) {
    super();
    this.deps = deps;
  }

  async perform({ userId, conversationId, throughId }: SummarizePayload, { em, signal }: TaskContext) {
    const conversation = await em.findOne(Conversation, { id: conversationId, user: userId });
    if (!conversation) return { skipped: 'deleted' };
    const from = conversation.summaryThroughId;
    if (from && from >= throughId) return { skipped: 'covered' };
    const messages = await em.find(
      Message,
      {
        conversation,
        id: { $lte: throughId, ...(from ? { $gt: from } : {}) },
        $or: [{ role: 'user' }, { role: 'assistant', status: 'complete' }],
      },
      { orderBy: { id: 'asc' } },
    );
    const transcript = messages
      .map((message) => `${message.role === 'user' ? 'User' : 'Assistant'}: ${message.content}`)
      .join('\n')
      .slice(-TRANSCRIPT_CHARS);
    const settings = await readSettings(em, this.deps.config);
    const summary = (
      await this.deps.provider.complete({
        model: settings.model,
        messages: summaryPrompt(conversation.summary ?? null, transcript),
        temperature: 0.2,
        maxTokens: 400,
        signal,
      })
    ).trim();
    if (!summary) return { skipped: 'empty' };
    // Never move the cursor backwards if a later summary landed first.
    await em.nativeUpdate(
      Conversation,
      { id: conversationId, $or: [{ summaryThroughId: null }, { summaryThroughId: { $lt: throughId } }] },
      { summary, summaryThroughId: throughId },
    );
    return { summarizedThrough: throughId };
  }
}
