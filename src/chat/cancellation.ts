/**
 * Cancelling an answer: besides stopping its job (src/queues/JobStopper.ts), the edge marks the
 * message with a flag the worker checks before it starts and while it streams, so a cancel that
 * races the job's start is not lost.
 */
export const cancelFlagKey = (prefix: string, messageId: string) => `${prefix}:cancel:${messageId}`;
export const CANCEL_FLAG_TTL_SECONDS = 3_600;
/** The abort reason of a user's cancel; defined with the job-cancel channel. */
export { USER_CANCEL_REASON } from '../queues/jobCancels.ts';
