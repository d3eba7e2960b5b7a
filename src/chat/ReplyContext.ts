import type { EntityManager } from '@mikro-orm/core';
import type { Conversation } from '../db/entities/Conversation.ts';
import { Message } from '../db/entities/Message.ts';
import type { PromptMessage } from '../llm/LlmProvider.ts';
import type { DocumentRetriever, Passage } from '../retrieval/DocumentRetriever.ts';
import type { SettingValues } from '../settings/RuntimeSettings.ts';
import { buildContext, type Turn } from './ContextBuilder.ts';
import { planGrounding } from './grounding.ts';

/** How many earlier messages are read to build a context; older ones live in the summary. */
const HISTORY_WINDOW = 400;

/** What one answer is built from. */
export type ReplyPlan =
  /** Nothing in the documents can ground an answer: reply with this text, without the model. */
  | { kind: 'fixed-answer'; answer: string }
  | {
      kind: 'model';
      messages: PromptMessage[];
      promptTokens: number;
      /** Where [n] citations in the answer point. */
      passages: Passage[];
      /** Turns fell out of the prompt that the summary doesn't cover: summarize through this one. */
      summarizeThroughId: string | null;
    };

/**
 * Everything an answer's prompt is made of, in one place: the conversation's history (one
 * answer per user turn), its grounding in the user's documents, the rolling summary, and the
 * token budget (`contextTokens` less the answer's `maxTokens`). Throws EmbedderUnavailableError
 * when a grounded answer needs the embedding model and it is not loaded.
 */
export class ReplyContext {
  private readonly retriever: DocumentRetriever;
  private readonly contextTokens: number;

  constructor(deps: { retriever: DocumentRetriever; contextTokens: number }) {
    this.retriever = deps.retriever;
    this.contextTokens = deps.contextTokens;
  }

  /** `conversation` with its documents loaded; `answer` the pending assistant message. */
  async plan(
    em: EntityManager,
    conversation: Conversation,
    answer: Message,
    settings: Pick<SettingValues, 'topK' | 'maxTokens'>,
  ): Promise<ReplyPlan> {
    const turns = await this.history(em, answer);
    const grounding = await planGrounding(em, this.retriever, {
      conversation,
      question: turns.at(-1)?.content ?? '',
      topK: settings.topK,
      promptBudgetTokens: this.contextTokens - settings.maxTokens,
    });
    if (grounding.kind === 'fixed-answer') return grounding;
    const context = buildContext({
      systemPrompt: grounding.systemPrompt,
      summary: conversation.summary ?? null,
      summaryThroughId: conversation.summaryThroughId ?? null,
      turns,
      contextTokens: this.contextTokens,
      answerTokens: settings.maxTokens,
    });
    return {
      kind: 'model',
      messages: context.messages,
      promptTokens: context.promptTokens,
      passages: grounding.passages,
      summarizeThroughId: context.unsummarizedDropped > 0 ? context.lastDroppedId : null,
    };
  }

  /** The turns before `answer`, oldest first: each user turn with its latest complete answer. */
  private async history(em: EntityManager, answer: Message): Promise<Turn[]> {
    const rows = await em.find(
      Message,
      {
        conversation: answer.conversation,
        id: { $lte: answer.replyTo! },
        role: { $in: ['user', 'assistant'] },
      },
      { orderBy: { id: 'desc' }, limit: HISTORY_WINDOW },
    );
    rows.reverse();
    // One answer per user turn: the latest complete one (regenerations replace earlier ones).
    const answers = new Map<string, Message>();
    for (const row of rows)
      if (row.role === 'assistant' && row.status === 'complete' && row.replyTo) answers.set(row.replyTo, row);
    const turns: Turn[] = [];
    for (const row of rows) {
      if (row.role !== 'user') continue;
      turns.push({ id: row.id, role: 'user', content: row.content });
      const reply = answers.get(row.id);
      if (reply && row.id !== answer.replyTo)
        turns.push({ id: reply.id, role: 'assistant', content: reply.content });
    }
    return turns;
  }
}
