import type { Logger } from '../logger.ts';
import type { RedisClient as Redis } from '../queues/redisConnections.ts';
import type { RealtimeEmitter } from './emitter.ts';
import { type StreamEvent, userRoom } from './events.ts';
import { encodeEvent, FIELD, replayKey, STARTED_ID, terminalId, tokenId } from './replayLog.ts';
import type { TerminalEvent } from './terminalEvent.ts';

export interface PublisherOptions {
  prefix: string;
  flushMs: number;
  flushChars: number;
  ttlSeconds: number;
}

export interface StreamTarget {
  userId: string;
  conversationId: string;
  messageId: string;
}

/**
 * Where a token is published. The worker hands every model token to `push`; tokens are
 * coalesced (flushMs or flushChars, whichever first) into `chat:token` batches with gap-free
 * seq, emitted to the user's room and appended to the answer's replay log. Nothing on this
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

  /** `resumeFrom` continues an interrupted answer's log (its text and last seq). */
  constructor(
    deps: { redis: Redis; emitter: RealtimeEmitter; logger: Logger },
    target: StreamTarget,
    options: PublisherOptions,
    resumeFrom: { text: string; seq: number } = { text: '', seq: 0 },
  ) {
    this.redis = deps.redis;
    this.emitter = deps.emitter;
    this.logger = deps.logger;
    this.target = target;
    this.options = options;
    this.key = replayKey(options.prefix, target.messageId);
    this.seq = resumeFrom.seq;
    this.text = resumeFrom.text;
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
