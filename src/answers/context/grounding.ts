import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { arrayLiteral } from '../../db/arrayLiteral.ts';
import type { Conversation } from '../../db/entities/Conversation.ts';
import type { DocumentRetriever, Passage } from '../../retrieval/DocumentRetriever.ts';
import {
  DOCUMENT_CONTEXT_PROMPT,
  GROUNDED_SYSTEM_PROMPT,
  NO_DOCUMENTS_ANSWER,
  NOTHING_RELEVANT_ANSWER,
  promptWithPassages,
} from './groundedPrompt.ts';
import { CHAT_SYSTEM_PROMPT } from './prompts.ts';

/** How one answer uses the user's documents. */
export type GroundingPlan =
  /** Ask the model with this system prompt; cite from `passages` (empty: plain chat). */
  | { kind: 'model'; systemPrompt: string; passages: Passage[] }
  /** Don't ask the model: nothing in the documents can ground an answer. */
  | { kind: 'fixed-answer'; answer: string };

/** Passages may take at most this share of the prompt budget; the rest is for the conversation. */
const PASSAGE_SHARE = 0.5;

/**
 * Decides the context of one answer. `grounded` conversations answer only from passages of
 * the selected documents (all ready ones when none are selected) and refuse to guess when none
 * is relevant; `chat` conversations with attached documents get relevant passages as help.
 */
export async function planGrounding(
  em: EntityManager,
  retriever: DocumentRetriever,
  input: {
    conversation: Conversation;
    question: string;
    topK: number;
    promptBudgetTokens: number;
  },
): Promise<GroundingPlan> {
  const { conversation } = input;
  const attached = (await conversation.documents.loadItems()).map((document) => document.id);
  const grounded = conversation.mode === 'grounded';
  if (!grounded && attached.length === 0)
    return { kind: 'model', systemPrompt: CHAT_SYSTEM_PROMPT, passages: [] };

  const userId = conversation.user.id;
  const scope = attached.length > 0 ? attached : null;
  const passages = await retriever.retrieve(em, {
    userId,
    documentIds: scope,
    question: input.question,
    topK: input.topK,
  });
  if (passages.length === 0) {
    if (!grounded) return { kind: 'model', systemPrompt: CHAT_SYSTEM_PROMPT, passages: [] };
    const searchable = await hasReadyDocuments(em, userId, scope);
    return { kind: 'fixed-answer', answer: searchable ? NOTHING_RELEVANT_ANSWER : NO_DOCUMENTS_ANSWER };
  }
  const { systemPrompt, used } = promptWithPassages(
    grounded ? GROUNDED_SYSTEM_PROMPT : DOCUMENT_CONTEXT_PROMPT,
    passages,
    Math.floor(input.promptBudgetTokens * PASSAGE_SHARE),
  );
  return { kind: 'model', systemPrompt, passages: used };
}

async function hasReadyDocuments(em: EntityManager, userId: string, ids: string[] | null): Promise<boolean> {
  const rows: unknown[] = await (em as SqlEntityManager).execute(
    `select 1 from documents where user_id = ? and status = 'ready'${ids ? ' and id = any(?::uuid[])' : ''} limit 1`,
    ids ? [userId, arrayLiteral(ids)] : [userId],
  );
  return rows.length > 0;
}
