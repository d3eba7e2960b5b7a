import type { PromptMessage } from '../../llm/LlmProvider.ts';
import { countTokens, MESSAGE_OVERHEAD_TOKENS, messageTokens } from '../../llm/tokenCount.ts';

export interface Turn {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  /**
   * countTokens(content) when known (stored with the message). When it isn't, buildContext counts
   * the turns it looks at and sets it here, so the caller can store what was counted.
   */
  tokens?: number | null;
}

/** What a turn costs in the prompt, tokenizing it only when its count is unknown. */
function turnTokens(turn: Turn): number {
  turn.tokens ??= countTokens(turn.content);
  return turn.tokens + MESSAGE_OVERHEAD_TOKENS;
}

export interface ContextInput {
  systemPrompt: string;
  /** The rolling summary of older turns, and the last message it covers. */
  summary: string | null;
  summaryThroughId: string | null;
  /** Earlier turns, oldest first, ending with the user turn being answered. */
  turns: Turn[];
  /** Total budget for prompt + answer, in tokens. */
  contextTokens: number;
  /** Room kept for the answer. */
  answerTokens: number;
}

export interface BuiltContext {
  messages: PromptMessage[];
  promptTokens: number;
  /** Turns that did not fit and that the summary does not yet cover: time to refresh it. */
  unsummarizedDropped: number;
  /** The newest turn left out of the prompt (what a fresh summary should reach). */
  lastDroppedId: string | null;
}

/** The budget can't drop below this much of the user's own message. */
const MIN_LAST_TURN_TOKENS = 64;

/**
 * Builds the prompt: the system prompt, the summary of older turns, then as many recent turns
 * as fit, newest kept first, leaving `answerTokens` free. The turn being answered is always
 * included (cut from the front when it alone is too long). Turns are tokenized only when their
 * count is not given, newest first, and only as far as the budget reaches.
 */
export function buildContext(input: ContextInput): BuiltContext {
  const system = input.summary
    ? `${input.systemPrompt}\n\nSummary of the earlier conversation:\n${input.summary}`
    : input.systemPrompt;
  let budget = input.contextTokens - input.answerTokens - messageTokens(system);

  const kept: Turn[] = [];
  const turns = [...input.turns];
  const last = turns.pop();
  if (last) {
    const cost = turnTokens(last);
    if (cost <= budget) {
      kept.push(last);
      budget -= cost;
    } else {
      const content = trimToTokens(last.content, Math.max(MIN_LAST_TURN_TOKENS, budget));
      kept.push({ ...last, content });
      budget -= messageTokens(content);
    }
  }
  let firstKeptIndex = turns.length;
  for (let index = turns.length - 1; index >= 0; index--) {
    const cost = turnTokens(turns[index]!);
    if (cost > budget) break;
    budget -= cost;
    kept.unshift(turns[index]!);
    firstKeptIndex = index;
  }

  const dropped = turns.slice(0, firstKeptIndex);
  const coveredUpTo = input.summaryThroughId;
  const unsummarized = dropped.filter((turn) => !coveredUpTo || turn.id > coveredUpTo);
  const messages: PromptMessage[] = [
    { role: 'system', content: system },
    ...kept.map(({ role, content }) => ({ role, content })),
  ];
  return {
    messages,
    promptTokens: input.contextTokens - input.answerTokens - budget,
    unsummarizedDropped: unsummarized.length,
    lastDroppedId: dropped.at(-1)?.id ?? null,
  };
}

/** Keeps the end of a too-long text (the question usually sits at the end). */
function trimToTokens(text: string, tokens: number): string {
  // Binary search over character offsets: tokens grow monotonically with the suffix length.
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (messageTokens(text.slice(middle)) <= tokens) high = middle;
    else low = middle + 1;
  }
  return text.slice(low);
}
