import type { StreamEvent } from './events.ts';

/**
 * Layout of an answer's replay log, the Redis Stream named by `replayKey` (src/redis/keys.ts).
 * Entry ids are chosen, not generated, so a reader can ask for "after seq N" directly:
 *   chat:started → 0-1,  chat:token or chat:tool seq n → n-0,  chat:done | chat:error → lastSeq-2.
 * An exclusive XRANGE from `n-0` therefore returns every token and tool event after seq n (from
 * `0-0`, chat:started too) and the end, if any.
 * The end is `-2` so that an answer that started and ended without a token (the model failed
 * first) still logs its end after `0-1`: Redis refuses an id equal to the last one.
 */

export const STARTED_ID = '0-1';
export const tokenId = (seq: number) => `${seq}-0`;
export const terminalId = (lastSeq: number) => `${lastSeq}-2`;
export const afterSeqStart = (afterSeq: number) => `(${afterSeq}-0`;

export const FIELD = 'e';

export const encodeEvent = (event: StreamEvent) => JSON.stringify(event);
export const decodeEvent = (raw: string): StreamEvent => JSON.parse(raw) as StreamEvent;

export const isTerminal = (event: StreamEvent) => event.event === 'chat:done' || event.event === 'chat:error';
