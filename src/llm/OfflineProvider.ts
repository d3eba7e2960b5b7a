import type { GenerationRequest, GenerationResult, LlmProvider } from './LlmProvider.ts';

export const OFFLINE_MODEL = 'offline';

/**
 * Used when GROQ_API_KEY is unset: the pipeline runs end to end, and the answer says plainly, in
 * one notice meant for the end user, that no model is configured. It never pretends to be a model.
 * The operator's detail (which setting is missing) goes to the logs and /health/ready instead.
 */
export class OfflineProvider implements LlmProvider {
  readonly name = 'offline' as const;
  readonly offline = true;

  async stream(request: GenerationRequest, onToken: (delta: string) => void): Promise<GenerationResult> {
    const words = OFFLINE_NOTICE.split(/(?<= )/);
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

/** The whole offline answer: the end user's one notice. */
export const OFFLINE_NOTICE =
  'This Parley has no language model configured yet, so answers are placeholders. Ask your administrator to set one up.';

/** What the operator is told (worker log, /health/ready), never the end user. */
export const OFFLINE_OPERATOR_NOTE =
  'GROQ_API_KEY is not set: the built-in model is the offline stand-in, whose answers are a placeholder notice';
