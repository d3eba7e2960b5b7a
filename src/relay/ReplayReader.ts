import type { RedisClient as Redis } from '../redis/connections.ts';
import { replayKey } from '../redis/keys.ts';
import type { ChatTool, StreamEvent } from './events.ts';
import { afterSeqStart, decodeEvent, FIELD } from './replayLog.ts';

export interface ReplayEntry {
  id: string;
  event: StreamEvent;
}

const decodeEntries = (entries: [string, string[]][]): ReplayEntry[] =>
  entries.map(([id, fields]) => ({ id, event: decodeEvent(fields[fields.indexOf(FIELD) + 1]!) }));

/** Reads an answer's replay log: what a reconnecting client missed, and (for SSE) the live tail. */
export class ReplayReader {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  /**
   * Every event after seq `afterSeq`, tokens and tool events alike (chat:started too when it is 0),
   * and the end of the answer once there is one.
   */
  async after(messageId: string, afterSeq: number): Promise<ReplayEntry[]> {
    const entries = await this.redis.xrange(replayKey(this.prefix, messageId), afterSeqStart(afterSeq), '+');
    return decodeEntries(entries as [string, string[]][]);
  }

  /**
   * What an answer had streamed (its text, last seq and tool calls), read back from its log;
   * tool events hold seqs of the same sequence as tokens.
   */
  async streamedSoFar(messageId: string): Promise<{ text: string; seq: number; toolCalls: ChatTool[] }> {
    let text = '';
    let seq = 0;
    const toolCalls: ChatTool[] = [];
    for (const { event } of await this.after(messageId, 0)) {
      if (event.event === 'chat:token' && event.data.seq === seq + 1) {
        text += event.data.delta;
        seq = event.data.seq;
      } else if (event.event === 'chat:tool' && event.data.seq === seq + 1) {
        toolCalls.push(event.data);
        seq = event.data.seq;
      }
    }
    return { text, seq, toolCalls };
  }

  /**
   * Blocks (on `blocking`, a connection of its own) until entries after `lastId` arrive or
   * `blockMs` passes; an empty result means nothing new yet.
   */
  async next(blocking: Redis, messageId: string, lastId: string, blockMs: number): Promise<ReplayEntry[]> {
    const result = (await blocking.xread(
      'BLOCK',
      blockMs,
      'STREAMS',
      replayKey(this.prefix, messageId),
      lastId,
    )) as [string, [string, string[]][]][] | null;
    return result ? decodeEntries(result[0]![1]) : [];
  }
}
