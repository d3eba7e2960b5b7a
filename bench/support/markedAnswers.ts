import { performance } from 'node:perf_hooks';
import type { ChatRequestBody } from '../../test/support/GroqStub.ts';

/** When the stub handed out each token of one answer (performance.now(), this process's clock). */
export interface StubSide {
  /** times[k - 1]: when token k was taken for sending; 0 while not yet sent. */
  times: Float64Array;
  /** When the stub planned the answer (right after reading the request body). */
  plannedAt: number;
}

/**
 * The stub's answers for the benchmark: token k is " t0001"-style (fixed width), so a client can
 * tell from the length of the text received so far how many stub tokens it holds, and nothing
 * else is embedded. Each answer is handed to GroqStub as a Proxy over the token list that notes the
 * moment the stub reads token k, which it does right before writing it to the socket: the exact
 * send time of every token, in performance.now(), with no change to GroqStub.
 */
export class MarkedAnswers {
  readonly tokens: readonly string[];
  /** Characters per token. */
  readonly width: number;
  /** The whole answer, to check what clients received. */
  readonly text: string;
  /** This run's answers, by the content of the last user message. */
  sides = new Map<string, StubSide>();
  /** Requests whose last user message was not one of ours (a title job, say). */
  unexpected = 0;

  constructor(count: number) {
    const digits = Math.max(4, String(count).length);
    this.tokens = Array.from({ length: count }, (_, index) => ` t${String(index + 1).padStart(digits, '0')}`);
    this.width = digits + 2;
    this.text = this.tokens.join('');
  }

  beginRun(): void {
    this.sides = new Map();
    this.unexpected = 0;
  }

  /** For GroqStub's `answer` option. */
  readonly answer = (body: ChatRequestBody): string[] => {
    const content = lastUserText(body);
    const times = new Float64Array(this.tokens.length);
    if (!content.startsWith(CONTENT_PREFIX)) this.unexpected += 1;
    else this.sides.set(content, { times, plannedAt: performance.now() });
    const tokens = this.tokens as string[];
    return new Proxy(tokens, {
      get(target, property) {
        if (typeof property === 'string') {
          const code = property.charCodeAt(0);
          if (code >= 48 && code <= 57) {
            const index = Number(property);
            if (index < times.length && times[index] === 0) times[index] = performance.now();
            return target[index];
          }
        }
        return Reflect.get(target, property);
      },
    });
  };
}

/** Every benchmark message starts with this; anything else reaching the stub is counted apart. */
export const CONTENT_PREFIX = 'relay-bench ';

export function lastUserText(body: ChatRequestBody): string {
  const message = body.messages?.findLast((candidate) => candidate.role === 'user');
  return typeof message?.content === 'string' ? message.content : '';
}
