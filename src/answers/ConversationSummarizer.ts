import type { EntityManager } from '@mikro-orm/core';
import type { Config } from '../config.ts';
import { Conversation } from '../db/entities/Conversation.ts';
import { Message } from '../db/entities/Message.ts';
import type { LlmProvider } from '../llm/LlmProvider.ts';
import { findOwnConversation } from '../policies/ownership.ts';
import { readSettings } from '../settings/RuntimeSettings.ts';
import { summaryPrompt } from './context/prompts.ts';

/** Transcript handed to the summariser per run, at most (older parts are in the previous summary). */
const TRANSCRIPT_CHARS = 24_000;

export type SummaryOutcome = { skipped: 'deleted' | 'covered' | 'empty' } | { summarizedThrough: string };

/**
 * Folds the turns that no longer fit the context window into the conversation's rolling
 * summary, so long conversations keep what was said early on.
 */
export class ConversationSummarizer {
  private readonly provider: LlmProvider;
  private readonly config: Config;

  constructor(deps: { provider: LlmProvider; config: Config }) {
    this.provider = deps.provider;
    this.config = deps.config;
  }

  /** Extends the summary to cover every turn up to `throughId`; never moves its cursor backwards. */
  async summarize(
    em: EntityManager,
    { userId, conversationId, throughId }: { userId: string; conversationId: string; throughId: string },
    signal: AbortSignal,
  ): Promise<SummaryOutcome> {
    const conversation = await findOwnConversation(em, userId, conversationId);
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
    const settings = await readSettings(em, this.config);
    const summary = (
      await this.provider.complete({
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
