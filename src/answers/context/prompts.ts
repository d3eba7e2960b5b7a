import type { PromptMessage } from '../../llm/LlmProvider.ts';

export const CHAT_SYSTEM_PROMPT =
  'You are Parley, a helpful assistant. Answer clearly and concisely. If you do not know, say so.';

export const titlePrompt = (firstUserMessage: string, firstAnswer: string): PromptMessage[] => [
  {
    role: 'system',
    content:
      'Write a title of at most six words for this conversation. Reply with the title only, no quotes, no final period.',
  },
  {
    role: 'user',
    content: `User: ${firstUserMessage.slice(0, 2_000)}\nAssistant: ${firstAnswer.slice(0, 1_000)}`,
  },
];

export const summaryPrompt = (previousSummary: string | null, transcript: string): PromptMessage[] => [
  {
    role: 'system',
    content:
      'Summarise the conversation below for the assistant who continues it: facts, decisions, names, open questions. ' +
      'At most 200 words. Reply with the summary only.',
  },
  {
    role: 'user',
    content: `${previousSummary ? `Summary so far:\n${previousSummary}\n\n` : ''}Conversation:\n${transcript}`,
  },
];

/** Titles come back in many shapes; keep one clean line. */
export const cleanTitle = (raw: string): string | null => {
  const title = raw
    .split('\n')[0]!
    .replace(/^["'“”\s]+|["'“”.\s]+$/g, '')
    .slice(0, 80)
    .trim();
  return title || null;
};

/** A title without a model: the question's first words (at most six, at most 60 characters). */
export const firstWordsTitle = (question: string): string | null => {
  const words = question.split(/\s+/).filter(Boolean).slice(0, 6);
  let title = words[0]?.slice(0, 60) ?? '';
  for (const word of words.slice(1)) {
    if (title.length + 1 + word.length > 60) break;
    title = `${title} ${word}`;
  }
  return cleanTitle(title);
};
