import type { Citation } from '../../db/entities/Message.ts';
import { countTokens } from '../../llm/tokenCount.ts';
import type { Passage } from '../../retrieval/DocumentRetriever.ts';

export const GROUNDED_SYSTEM_PROMPT =
  'You are Parley. Answer the question using only the numbered passages below, which come from the ' +
  "user's own documents. Cite every statement with the passage number in square brackets, like [1] or " +
  '[2][3]. If the passages do not contain the answer, say that the documents do not answer it; do not ' +
  'use outside knowledge and do not guess.';

export const DOCUMENT_CONTEXT_PROMPT =
  'You are Parley, a helpful assistant. The numbered passages below come from documents the user ' +
  'attached to this conversation. Use them where they help and cite them in square brackets, like [1]; ' +
  'otherwise answer from general knowledge. If you do not know, say so.';

/** What a grounded conversation answers, without calling the model, when no passage is relevant. */
export const NOTHING_RELEVANT_ANSWER =
  "I couldn't find anything about this in your documents, so I can't answer it from them. " +
  'Try rephrasing the question, or check that the right documents are selected and finished processing.';

/** A grounded conversation with no ready document to search. */
export const NO_DOCUMENTS_ANSWER =
  'There are no processed documents to answer from yet. Upload a document (or wait until it is ready) ' +
  'and ask again.';

/**
 * The system prompt with its numbered passages. Passages are kept best first until they would
 * take more than `budgetTokens`, so a small context window still leaves room for the conversation.
 */
export function promptWithPassages(
  instructions: string,
  passages: Passage[],
  budgetTokens: number,
): { systemPrompt: string; used: Passage[] } {
  let prompt = `${instructions}\n\nPassages:`;
  let spent = countTokens(prompt);
  const used: Passage[] = [];
  for (const passage of passages) {
    const block = `\n\n[${used.length + 1}] ${sourceLabel(passage)}\n${passage.content}`;
    const cost = countTokens(block);
    if (spent + cost > budgetTokens && used.length > 0) break;
    prompt += block;
    spent += cost;
    used.push(passage);
  }
  return { systemPrompt: prompt, used };
}

const sourceLabel = (passage: Passage) =>
  `(${passage.filename}${passage.page ? `, page ${passage.page}` : ''})`;

/**
 * The passages an answer cites by [n]. An answer that cites none still gets every passage it
 * was given, as its sources: the model read only those.
 */
export function citationsFor(answer: string, passages: Passage[]): Citation[] {
  return citedIn(answer, passageCitations(passages));
}

/** Passages as citations, numbered [1], [2]… as the prompt shows them. */
export const passageCitations = (passages: Passage[]): Citation[] =>
  passages.map((passage, index) => ({
    n: index + 1,
    documentId: passage.documentId,
    chunkId: passage.chunkId,
    filename: passage.filename,
    page: passage.page,
    snippet: passage.snippet,
    score: Number(passage.score.toFixed(6)),
  }));

/**
 * The citations an answer points at ([n], [n, m]); all of them when it names none (or only
 * numbers that don't exist), so a grounded answer always shows its sources.
 */
export function citedIn(answer: string, citations: Citation[]): Citation[] {
  const cited = new Set<number>();
  for (const group of answer.matchAll(/\[(\d+(?:\s*[,;]\s*\d+)*)\]/g)) {
    for (const number of group[1]!.split(/[,;]/)) cited.add(Number(number.trim()));
  }
  const named = citations.filter((citation) => cited.has(citation.n));
  return named.length > 0 ? named : citations;
}
