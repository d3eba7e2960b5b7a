import type { LlmProvider } from '../llm/LlmProvider.ts';
import { OFFLINE_OPERATOR_NOTE } from '../llm/OfflineProvider.ts';

export interface LlmStatus {
  status: 'ok' | 'degraded';
  provider: LlmProvider['name'];
  /** For the operator: why answers are placeholders (the offline stand-in). */
  note?: string;
  error?: string;
  checkedAt: string | null;
}

/** Long enough to wait for the very first probe inside a readiness request. */
const FIRST_CHECK_WAIT_MS = 1_500;

/**
 * Whether the LLM answers, probed at most once per `intervalMs` however often readiness is asked.
 * A stale result is served while a fresh probe runs in the background, so a slow provider never
 * slows or flaps readiness; the result is advisory (an LLM outage doesn't take the API down).
 */
export class LlmHealth {
  private readonly provider: LlmProvider;
  private readonly intervalMs: number;
  private last?: LlmStatus & { at: number };
  private probing?: Promise<void>;

  constructor(provider: LlmProvider, intervalMs = 60_000) {
    this.provider = provider;
    this.intervalMs = intervalMs;
  }

  async status(): Promise<LlmStatus> {
    if (!this.last || Date.now() - this.last.at >= this.intervalMs) {
      const probe = this.refresh();
      if (!this.last)
        await Promise.race([probe, new Promise((done) => setTimeout(done, FIRST_CHECK_WAIT_MS).unref())]);
    }
    if (!this.last)
      return {
        status: 'degraded',
        provider: this.provider.name,
        error: 'the first check is still running',
        checkedAt: null,
      };
    const { at: _at, ...status } = this.last;
    return this.provider.offline ? { ...status, note: OFFLINE_OPERATOR_NOTE } : status;
  }

  private refresh(): Promise<void> {
    this.probing ??= (async () => {
      const at = Date.now();
      try {
        await this.provider.probe(AbortSignal.timeout(10_000));
        this.last = { status: 'ok', provider: this.provider.name, checkedAt: new Date(at).toISOString(), at };
      } catch (error) {
        const message = (error as Error).message;
        this.last = {
          status: 'degraded',
          provider: this.provider.name,
          error: message,
          checkedAt: new Date(at).toISOString(),
          at,
        };
      } finally {
        this.probing = undefined;
      }
    })();
    return this.probing;
  }
}
