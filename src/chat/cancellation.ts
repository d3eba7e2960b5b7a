/**
 * Cancelling a job crosses processes: the edge publishes the job id on a channel every worker
 * process listens to, and the one holding the job aborts it. For an answer, the edge also marks
 * the message (a flag a worker checks before it starts). Job ids are message or document ids.
 */
export const cancelFlagKey = (prefix: string, messageId: string) => `${prefix}:cancel:${messageId}`;
export const cancelChannel = (prefix: string) => `${prefix}:jobs:cancel`;
export const CANCEL_FLAG_TTL_SECONDS = 3_600;
/** The abort reason a user's cancel carries, to tell it from a forced shutdown. */
export const USER_CANCEL_REASON = 'cancelled by the user';
