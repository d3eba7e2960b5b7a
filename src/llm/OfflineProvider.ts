import type { GenerationRequest, GenerationResult, LlmProvider } from './LlmProvider.ts';

export const OFFLINE_MODEL = 'offline';

/**
 * Used when GROQ_API_KEY is unset: the pipeline runs end to end, and the answer says plainly
 * that no model is configured. It never pretends to be a model.
 */
export class OfflineProvider implements LlmProvider {
  readonly name = 'offline' as const;

  async stream(request: GenerationRequest, onToken: (delta: string) => void): Promise<GenerationResult> {
    const words = offlineAnswer().split(/(?<= )/);
    for (const word of words) {
      if (request.signal?.aborted)
        return { model: OFFLINE_MODEL, usage: null, finishReason: null, aborted: true, toolCalls: [] };
      onToken(word);
    }
    return { model: OFFLINE_MODEL, usage: null, finishReason: 'stop', aborted: false, toolCalls: [] };
  }

  /** Nothing to reach: always fine. */
  async probe(): Promise<void> {}

  /** Titles and summaries without a model: the first words of the last message given. */
  async complete(request: GenerationRequest): Promise<string> {
    const last = request.messages.at(-1)?.content ?? '';
    return last.split(/\s+/).filter(Boolean).slice(0, 8).join(' ');
  }
}

export const offlineAnswer = () =>
  'No language model is configured on this server (GROQ_API_KEY is not set), so there is no generated answer. ' +
  'Your message is saved; ask an administrator to configure a model.';
