import type { ToolCallRecord } from '../db/toolCall.ts';
import type { Logger } from '../logger.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { replayKey } from '../redis/keys.ts';
import type { RealtimeEmitter } from './emitter.ts';
import { type ChatTool, type StreamEvent, userRoom } from './events.ts';
import { encodeEvent, FIELD, STARTED_ID, terminalId, tokenId } from './replayLog.ts';
import type { TerminalEvent } from './terminalEvent.ts';

export interface PublisherOptions {
  prefix: string;
  flushMs: number;
  flushChars: number;
  ttlSeconds: number;
}

/** Where an interrupted answer's log stands: its text, last seq and tool calls. */
export interface ResumePoint {
  text: string;
  seq: number;
  toolCalls?: ChatTool[];
}

export interface StreamTarget {
  userId: string;
  conversationId: string;
  messageId: string;
}

/**
 * Where a token is published. The worker hands every model token to `push`; tokens are
 * coalesced (flushMs or flushChars, whichever first) into `chat:token` batches with gap-free
 * seq, emitted to the user's room and appended to the answer's replay log. Tool activity
 * (`tool`) takes seqs of the same sequence. Nothing on this
 * path awaits Redis: commands are queued on one connection, in order, and their errors logged.
 */
export class TokenPublisher {
  private readonly redis: Redis;
  private readonly emitter: RealtimeEmitter;
  private readonly target: StreamTarget;
  private readonly options: PublisherOptions;
  private readonly logger: Logger;
  private readonly key: string;
  private buffer = '';
  private timer?: NodeJS.Timeout;
  private seq: number;
  private text: string;
  /** Each tool call's latest state, in the order the calls started. */
  private readonly calls = new Map<string, ToolCallRecord>();

  /** `resumeFrom` continues an interrupted answer's log (its text, last seq and tool calls). */
  constructor(
    deps: { redis: Redis; emitter: RealtimeEmitter; logger: Logger },
    target: StreamTarget,
    options: PublisherOptions,
    resumeFrom: ResumePoint = { text: '', seq: 0 },
  ) {
    this.redis = deps.redis;
    this.emitter = deps.emitter;
    this.logger = deps.logger;
    this.target = target;
    this.options = options;
    this.key = replayKey(options.prefix, target.messageId);
    this.seq = resumeFrom.seq;
    this.text = resumeFrom.text;
    for (const activity of resumeFrom.toolCalls ?? []) this.remember(activity);
  }

  /** The answer's tool calls so far, as the stored message keeps them. */
  get toolCalls(): ToolCallRecord[] {
    return [...this.calls.values()];
  }

  /** Everything pushed so far: what the stored message will hold. */
  get content(): string {
    return this.text + this.buffer;
  }

  get lastSeq(): number {
    return this.seq;
  }

  started(): void {
    const { conversationId, messageId } = this.target;
    this.publish(STARTED_ID, { event: 'chat:started', data: { conversationId, messageId } });
  }

  push(delta: string): void {
    if (!delta) return;
    this.buffer += delta;
    // The first token goes out at once: batching it would add flushMs to every time to first token.
    if (this.seq === 0 || this.buffer.length >= this.options.flushChars) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.flushMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buffer) return;
    const delta = this.buffer;
    this.buffer = '';
    this.text += delta;
    this.seq += 1;
    const { conversationId, messageId } = this.target;
    this.publish(tokenId(this.seq), {
      event: 'chat:token',
      data: { conversationId, messageId, seq: this.seq, delta },
    });
  }

  /**
   * A tool call's progress: pending tokens go first (a flush), then the event takes the next seq,
   * so text and tool activity keep one gap-free order in the room and in the replay log.
   */
  tool(activity: Omit<ChatTool, 'conversationId' | 'messageId' | 'seq'>): void {
    this.flush();
    this.seq += 1;
    this.remember(activity);
    const { conversationId, messageId } = this.target;
    this.publish(tokenId(this.seq), {
      event: 'chat:tool',
      data: { conversationId, messageId, seq: this.seq, ...activity },
    });
  }

  private remember(activity: Omit<ChatTool, 'conversationId' | 'messageId' | 'seq'>): void {
    const { callId, name, arguments: args, status, summary, durationMs } = activity;
    this.calls.set(callId, {
      callId,
      name,
      arguments: args,
      status,
      summary: summary ?? null,
      durationMs: durationMs ?? null,
    });
  }

  /** The last event of the answer; waits until Redis has it, so a replay after this sees the end. */
  async finish(event: TerminalEvent): Promise<void> {
    this.flush();
    this.publish(terminalId(this.seq), event);
    await this.redis.expire(this.key, this.options.ttlSeconds).catch((error: Error) => {
      this.logger.warn({ messageId: this.target.messageId, err: error.message }, 'replay log expiry not set');
    });
  }

  private publish(id: string, event: StreamEvent): void {
    // Log first, then live: a client that resumes after reading the log misses nothing.
    this.redis
      .xadd(this.key, 'MAXLEN', '~', '10000', id, FIELD, encodeEvent(event))
      .catch((error: Error) =>
        this.logger.warn({ messageId: this.target.messageId, err: error.message }, 'replay append failed'),
      );
    (this.emitter.to(userRoom(this.target.userId)).emit as (event: string, data: unknown) => void)(
      event.event,
      event.data,
    );
  }
}
