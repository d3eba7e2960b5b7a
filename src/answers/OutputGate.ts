import type { TokenPublisher } from '../relay/TokenPublisher.ts';
import type { AnswerOutput, ToolActivity } from './ToolLoop.ts';

/**
 * The hold-until-committed gate between the tool loop and the relay.
 *
 * Why: the model request and the answer's `streaming` write go out together (the write would
 * otherwise add a round trip to the time to first token), but nothing may leave before that write
 * is committed: a retry after a crash must be able to tell whether output went out (then it ends
 * the answer `failed` with its partial text) or not (then it starts afresh). So tokens that arrive
 * early are held here, and tool calls wait for `allowed` (a tool event is output, and a retry
 * must never run tools twice). `open()` releases the held text once the write is committed;
 * `refuse()` drops it when the answer ended meanwhile or the write failed.
 *
 * Tokens and tool events go from the loop through this gate to the publisher directly: the task
 * that started the answer is not on their path.
 */
export class OutputGate implements AnswerOutput {
  readonly allowed: Promise<boolean>;
  private readonly publisher: TokenPublisher;
  private readonly startedAt: number;
  private held: string | null = '';
  private decide: (allowed: boolean) => void = () => {};
  private firstTokenMs: number | null = null;

  constructor(publisher: TokenPublisher, startedAt = performance.now()) {
    this.publisher = publisher;
    this.startedAt = startedAt;
    this.allowed = new Promise<boolean>((resolve) => {
      this.decide = resolve;
    });
  }

  /** Milliseconds from the request to the model's first token; null while none came. */
  get ttftMs(): number | null {
    return this.firstTokenMs;
  }

  token(delta: string): void {
    this.firstTokenMs ??= Math.round(performance.now() - this.startedAt);
    if (this.held === null) this.publisher.push(delta);
    else this.held += delta;
  }

  tool(activity: ToolActivity): void {
    this.publisher.tool(activity);
  }

  /** The `streaming` write is committed: chat:started, then what was held, then live. */
  open(): void {
    this.publisher.started();
    const early = this.held ?? '';
    this.held = null;
    this.publisher.push(early);
    this.decide(true);
  }

  /** Nothing may leave: the loop ends as aborted, and what was held is dropped. */
  refuse(): void {
    this.decide(false);
  }
}
