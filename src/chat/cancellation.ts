/**
 * Cancelling an answer crosses processes: the edge marks the message (a flag a worker checks
 * before it starts) and publishes on a channel every chat worker listens to; the one holding
 * the job aborts it.
 */
export const cancelFlagKey = (prefix: string, messageId: string) => `${prefix}:cancel:${messageId}`;
export const cancelChannel = (prefix: string) => `${prefix}:chat:cancel`;
export const CANCEL_FLAG_TTL_SECONDS = 3_600;
/** The abort reason a user's cancel carries, to tell it from a forced shutdown. */
export const USER_CANCEL_REASON = 'cancelled by the user';
