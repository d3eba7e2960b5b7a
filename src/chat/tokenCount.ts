import llama3Tokenizer from 'llama3-tokenizer-js';

/** Llama 3's own BPE (the models Groq serves by default), not characters divided by four. */
export const countTokens = (text: string): number =>
  llama3Tokenizer.encode(text, { bos: false, eos: false }).length;

/** Each chat message costs its text plus the role header and end-of-turn markers (4 tokens). */
export const MESSAGE_OVERHEAD_TOKENS = 4;

export const messageTokens = (content: string) => countTokens(content) + MESSAGE_OVERHEAD_TOKENS;
