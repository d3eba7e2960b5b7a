import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { arrayLiteral } from '../../db/arrayLiteral.ts';
import type { Conversation } from '../../db/entities/Conversation.ts';
import type { Message, MessageStatus } from '../../db/entities/Message.ts';
import type { PromptMessage } from '../../llm/LlmProvider.ts';
import { findOwnAnswerForReply } from '../../policies/ownership.ts';
import type { DocumentRetriever, Passage } from '../../retrieval/DocumentRetriever.ts';
import type { SettingValues } from '../../settings/RuntimeSettings.ts';
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
      /** Turns whose token count was not stored yet and was counted now (see `storeCounts`). */
      counted: Array<{ id: string; tokens: number }>;
    };

/** One row of the history window: what a turn needs, with its stored token count. */
export interface HistoryRow {
  id: string;
  role: 'user' | 'assistant';
  status: MessageStatus;
  replyTo: string | null;
  content: string;
  tokenCount: number | null;
}

/** The answer to write, with everything its prompt is made of that lives in the database. */
export interface LoadedReply {
  /** The assistant message; its conversation and the conversation's documents are loaded. */
  answer: Message;
  conversation: Conversation;
  /** The messages up to the turn being answered, oldest first (at most HISTORY_WINDOW). */
  history: HistoryRow[];
}

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

  /**
   * Loads the user's answer, its conversation with its documents, and the history window, in two
   * queries sent together (one round trip): the window is found through the answer's own row, so
   * it doesn't wait for the first. Null when the answer is gone (or not the user's).
   */
  async load(em: EntityManager, ids: { userId: string; messageId: string }): Promise<LoadedReply | null> {
    const [answer, history] = await Promise.all([
      findOwnAnswerForReply(em, ids.userId, ids.messageId),
      this.historyRows(em, ids),
    ]);
    if (!answer) return null;
    return { answer, conversation: answer.conversation, history };
  }

  /** Plans the answer `load` found (the pending assistant message). */
  async plan(
    em: EntityManager,
    { answer, conversation, history }: LoadedReply,
    settings: Pick<SettingValues, 'topK' | 'maxTokens'>,
    /** The answering model's budget (ModelCatalog), when smaller than CHAT_CONTEXT_TOKENS. */
    contextTokens = this.contextTokens,
  ): Promise<ReplyPlan> {
    const turns = toTurns(history, answer.replyTo ?? null);
    const unknown = new Set(history.filter((row) => row.tokenCount === null).map((row) => row.id));
    const grounding = await planGrounding(em, this.retriever, {
      conversation,
      question: turns.at(-1)?.content ?? '',
      topK: settings.topK,
      promptBudgetTokens: contextTokens - settings.maxTokens,
    });
    if (grounding.kind === 'fixed-answer') return grounding;
    const context = buildContext({
      systemPrompt: grounding.systemPrompt,
      summary: conversation.summary ?? null,
      summaryThroughId: conversation.summaryThroughId ?? null,
      turns,
      contextTokens,
      answerTokens: settings.maxTokens,
    });
    return {
      kind: 'model',
      messages: context.messages,
      promptTokens: context.promptTokens,
      passages: grounding.passages,
      summarizeThroughId: context.unsummarizedDropped > 0 ? context.lastDroppedId : null,
      // buildContext counted the turns it looked at whose count wasn't stored.
      counted: turns.flatMap((turn) =>
        unknown.has(turn.id) && turn.tokens != null ? [{ id: turn.id, tokens: turn.tokens }] : [],
      ),
    };
  }

  /**
   * Stores token counts of messages written before counts were stored (lazy backfill), so the
   * next answer doesn't count them again. Only the user's own rows, only where still unknown.
   */
  async storeCounts(em: EntityManager, userId: string, counted: Array<{ id: string; tokens: number }>) {
    if (counted.length === 0) return;
    await (em as SqlEntityManager).execute(
      `update messages m set token_count = c.n
         from unnest(?::uuid[], ?::int[]) as c(id, n)
        where m.id = c.id and m.user_id = ? and m.token_count is null`,
      [
        arrayLiteral(counted.map(({ id }) => id)),
        `{${counted.map(({ tokens }) => tokens).join(',')}}`,
        userId,
      ],
    );
  }

  /**
   * The user and assistant messages of the conversation up to the turn being answered (newest
   * HISTORY_WINDOW of them), oldest first. The conversation and the turn are the answer's own,
   * read in the same statement from its row by id and user; the window names the user again
   * (user isolation, see policies/ownership.ts).
   */
  private async historyRows(
    em: EntityManager,
    ids: { userId: string; messageId: string },
  ): Promise<HistoryRow[]> {
    const rows: Array<{
      id: string;
      role: 'user' | 'assistant';
      status: MessageStatus;
      reply_to: string | null;
      content: string;
      token_count: number | null;
    }> = await (em as SqlEntityManager).execute(
      `with answer as (select conversation_id, reply_to from messages where id = ? and user_id = ?)
       select m.id, m.role, m.status, m.reply_to, m.content, m.token_count
         from messages m, answer
        where m.conversation_id = answer.conversation_id and m.user_id = ?
          and m.role in ('user', 'assistant') and m.id <= answer.reply_to
        order by m.id desc
        limit ${HISTORY_WINDOW}`,
      [ids.messageId, ids.userId, ids.userId],
    );
    return rows.reverse().map((row) => ({
      id: row.id,
      role: row.role,
      status: row.status,
      replyTo: row.reply_to,
      content: row.content,
      tokenCount: row.token_count,
    }));
  }
}

/**
 * The turns before the answer, oldest first: each user turn with its latest complete answer
 * (regenerations replace earlier ones), ending with the turn being answered.
 */
function toTurns(rows: HistoryRow[], answering: string | null): Turn[] {
  const answers = new Map<string, HistoryRow>();
  for (const row of rows)
    if (row.role === 'assistant' && row.status === 'complete' && row.replyTo) answers.set(row.replyTo, row);
  const turn = (row: HistoryRow): Turn => ({
    id: row.id,
    role: row.role,
    content: row.content,
    tokens: row.tokenCount,
  });
  const turns: Turn[] = [];
  for (const row of rows) {
    if (row.role !== 'user') continue;
    turns.push(turn(row));
    const reply = answers.get(row.id);
    if (reply && row.id !== answering) turns.push(turn(reply));
  }
  return turns;
}
