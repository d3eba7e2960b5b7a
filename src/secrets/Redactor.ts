/**
 * Text from outside may quote a secret we sent: an MCP server that rejects a credential by naming
 * it ("access denied for token …"), an error body that echoes a header, a tool description. Every
 * such text passes through a Redactor before it reaches a log line, the model, a client, a stored
 * message or a health report. A Redactor is a value: the secret values it hides (an MCP server's
 * header values, the model providers' keys), combined with `with`, applied with `redact`.
 * It is the one place that decides what counts as a secret's trace, so every path hides the same.
 */

/** What a secret's place says instead. */
export const REDACTED = '[redacted]';

/** Shorter parts would hide ordinary words; the whole value is hidden whatever its length. */
const MIN_PART_LENGTH = 4;

/** Scheme words of an Authorization value: not secret, and far too common to hide. */
const SCHEMES = /^(bearer|basic|token|digest|apikey)$/i;

/** The value and the parts a server may quote alone: "Bearer <token>" → the token; Basic → user:password. */
function tracesOf(value: string): string[] {
  const whole = value.trim();
  if (whole === '') return [];
  const parts = whole.split(/\s+/).filter((part) => part.length >= MIN_PART_LENGTH && !SCHEMES.test(part));
  const basic = /^basic\s+([A-Za-z0-9+/=_-]+)$/i.exec(whole);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    if (/^[\x20-\x7e]+$/.test(decoded))
      parts.push(decoded, ...decoded.split(':').filter((part) => part.length >= MIN_PART_LENGTH));
  }
  return [whole, ...parts];
}

export class Redactor {
  /** Hides nothing. */
  static readonly none = new Redactor([]);

  /** Longest first, so a value is hidden whole before any of its parts. */
  private readonly traces: readonly string[];

  private constructor(traces: Iterable<string>) {
    this.traces = [...new Set(traces)].sort((a, b) => b.length - a.length);
  }

  /** A redactor of these secret values (empty and missing ones are ignored). */
  static of(values: Iterable<string | null | undefined>): Redactor {
    const traces: string[] = [];
    for (const value of values) if (value) traces.push(...tracesOf(value));
    return traces.length === 0 ? Redactor.none : new Redactor(traces);
  }

  /** Hides this one's secrets and the others'. */
  with(...others: Array<Redactor | undefined>): Redactor {
    const more = others.filter((other): other is Redactor => Boolean(other && other.traces.length > 0));
    if (more.length === 0) return this;
    return new Redactor([...this.traces, ...more.flatMap((other) => other.traces)]);
  }

  /** Whether it hides anything at all. */
  get isEmpty(): boolean {
    return this.traces.length === 0;
  }

  redact(text: string): string {
    let result = text;
    for (const trace of this.traces) if (result.includes(trace)) result = result.split(trace).join(REDACTED);
    return result;
  }

  /** Every string inside a JSON-like value (keys too) redacted; the value itself is not changed. */
  redactDeep<T>(value: T): T {
    if (this.traces.length === 0) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [this.redact(key), this.walk(item)]),
      );
    return value;
  }
}
