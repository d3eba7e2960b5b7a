import type { EntityManager } from '@mikro-orm/core';
import type { Config } from '../config.ts';
import { Conversation } from '../db/entities/Conversation.ts';
import { Message } from '../db/entities/Message.ts';
import type { LlmProvider } from '../llm/LlmProvider.ts';
import { findOwnConversation } from '../policies/ownership.ts';
import { readSettings } from '../settings/RuntimeSettings.ts';
import { cleanTitle, firstWordsTitle, titlePrompt } from './context/prompts.ts';

export type TitleOutcome = { skipped: true } | { title: string; saved: boolean };

/**
 * After the first exchange, a short title from the model (or the question's first words when the
 * model fails, or when there is none: the offline stand-in would only echo the prompt); the
 * user's own title is never overwritten.
 */
export class ConversationTitler {
  private readonly provider: LlmProvider;
  private readonly config: Config;

  constructor(deps: { provider: LlmProvider; config: Config }) {
    this.provider = deps.provider;
    this.config = deps.config;
  }

  /** `saved` is false when the user named the conversation meanwhile. */
  async title(
    em: EntityManager,
    { userId, conversationId }: { userId: string; conversationId: string },
    signal: AbortSignal,
  ): Promise<TitleOutcome> {
    const conversation = await findOwnConversation(em, userId, conversationId);
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
    const generated = this.provider.offline
      ? ''
      : await this.provider
          .complete({
            model: (await readSettings(em, this.config)).model,
            messages: titlePrompt(question.content, answer?.content ?? ''),
            temperature: 0.2,
            maxTokens: 24,
            signal,
          })
          .catch(() => '');
    const title = cleanTitle(generated) ?? firstWordsTitle(question.content) ?? 'New conversation';
    // Only if still untitled: the user may have named it meanwhile.
    const updated = await em.nativeUpdate(
      Conversation,
      { id: conversationId, user: userId, title: null },
      { title },
    );
    return { title, saved: updated > 0 };
  }
}
