import type { GenerationRequest, GenerationResult, LlmProvider } from './LlmProvider.ts';
import { LlmError } from './LlmProvider.ts';

/** One model an answer may come from: its ref (GET /models id), its provider's name for it. */
export interface ChainStep {
  ref: string;
  modelId: string;
  provider: LlmProvider;
}

/**
 * The one place fallback happens. An answer asks the first model; if it fails retryably (429,
 * 5xx, a timeout, a lost connection) before it produced any text, the next model is asked, in
 * the admin's order. Once text went out, a failure is final: the answer ends `failed`, never
 * continues in a second voice. After a model answered, the chain stays with it for the answer's
 * later calls (a tool loop's next step).
 *
 * The split with the SDKs' own retries: a step with a fallback after it is built with retries
 * off (the fallback is its retry, and a 429 backoff would only delay it); the last step keeps
 * the provider's retries (ModelCatalog builds them so).
 *
 * A tool-call fragment is not seen here: it stays inside the provider until the stream ends,
 * reaches nobody, and a fallback after it starts afresh, so it is not "emitted" in the sense above.
 */
export class FallbackChain {
  private readonly steps: ChainStep[];
  private readonly onFallback: (from: ChainStep, to: ChainStep, error: LlmError) => void;
  private answeredBy: ChainStep | null = null;

  constructor(steps: ChainStep[], onFallback: (from: ChainStep, to: ChainStep, error: LlmError) => void) {
    if (steps.length === 0) throw new Error('a fallback chain needs at least one model');
    this.steps = steps;
    this.onFallback = onFallback;
  }

  /**
   * The ref the answer is attributed to: the model that answered once one has (a fallback, maybe),
   * until then the one that will be asked first.
   */
  get primary(): string {
    return (this.answeredBy ?? this.steps[0]!).ref;
  }

  /** Streams from the first model that answers; the result's `model` is that model's ref. */
  async stream(
    request: Omit<GenerationRequest, 'model'>,
    onToken: (delta: string) => void,
  ): Promise<GenerationResult> {
    const steps = this.answeredBy ? [this.answeredBy] : this.steps;
    for (const [index, step] of steps.entries()) {
      let emitted = false;
      try {
        const result = await step.provider.stream({ ...request, model: step.modelId }, (delta) => {
          emitted = true;
          onToken(delta);
        });
        this.answeredBy = step;
        return { ...result, model: step.ref };
      } catch (error) {
        const next = steps[index + 1];
        const canFallBack =
          next && !emitted && error instanceof LlmError && error.retryable && !request.signal?.aborted;
        if (!canFallBack) throw error;
        this.onFallback(step, next, error);
      }
    }
    throw new Error('unreachable: the last step returns or throws');
  }
}
