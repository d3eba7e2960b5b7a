import type { Config } from '../config.ts';
import { GroqProvider } from './GroqProvider.ts';
import type { LlmProvider } from './LlmProvider.ts';
import { OfflineProvider } from './OfflineProvider.ts';

/** Groq when a key is configured, otherwise the offline provider. */
export const createLlmProvider = ({ groq }: Pick<Config, 'groq'>): LlmProvider =>
  groq.apiKey
    ? new GroqProvider({
        apiKey: groq.apiKey,
        baseURL: groq.baseURL,
        timeoutMs: groq.timeoutMs,
        maxRetries: groq.maxRetries,
      })
    : new OfflineProvider();
