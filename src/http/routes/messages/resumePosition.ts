import { z } from 'zod';
import { validationFailed } from '../../problem.ts';

/**
 * Where an SSE client resumes an answer. A browser's EventSource (and any standard SSE client)
 * reconnects on its own with the `Last-Event-ID` header set to the last `id:` it received; an
 * explicit client says `?afterSeq=N`. Both name a place in the replay log (ids are `seq-n`, see
 * relay/replayLog.ts); when both are given the later place wins, so a stale query string left in
 * the URL by an EventSource never replays what the header says the client already has.
 */
export interface ResumePosition {
  /** Replay the log after token `afterSeq`... */
  afterSeq: number;
  /** ...skipping entries up to and including this id (the started event, `0-1`, for instance). */
  afterId?: string;
  /** The client's last event was the answer's end: nothing is left to send. */
  ended: boolean;
}

/** One of our replay ids (`12-0`, `0-1`, `12-2`), or a bare seq. */
const lastEventId = z
  .string()
  .trim()
  .regex(/^\d{1,15}(-[0-2])?$/, 'must be an id: of this stream (like 12-0) or a seq number');

const parts = (id: string): [number, number] => {
  const [seq, sub = '0'] = id.split('-');
  return [Number(seq), Number(sub)];
};

/** Whether replay id `a` comes after `b` in the log. */
export const idAfter = (a: string, b: string) => {
  const [seqA, subA] = parts(a);
  const [seqB, subB] = parts(b);
  return seqA !== seqB ? seqA > seqB : subA > subB;
};

/** The resume position from `?afterSeq` and the `Last-Event-ID` header (400 when the header is not one of ours). */
export function resumePosition(afterSeq: number, header: string | undefined): ResumePosition {
  if (header === undefined || header.trim() === '') return { afterSeq, ended: false };
  const parsed = lastEventId.safeParse(header);
  if (!parsed.success)
    throw validationFailed([{ path: 'headers.last-event-id', message: parsed.error.issues[0]!.message }]);
  const [seq, sub] = parts(parsed.data);
  if (seq < afterSeq) return { afterSeq, ended: false };
  // `-2` is the end (chat:done / chat:error): the client has all of it.
  return { afterSeq: seq, afterId: `${seq}-${sub}`, ended: sub === 2 };
}
