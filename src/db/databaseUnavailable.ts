import { ConnectionException } from '@mikro-orm/core';

/** Node socket errors that mean "the server is not there right now", not "the query is wrong". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
/** SQLSTATEs of a server going away or not yet taking connections (class 08, 57P01–57P03). */
const SERVER_GONE = /^(08|57P0[1-3])/;
/** What pg and its pool say when a connection broke or none could be had in time. */
const DRIVER_MESSAGES =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection ended/i;

/**
 * True when an error says the database is unreachable (stopped, restarting, network gone), so
 * the same work can succeed once it is back; false for errors the same query would hit again.
 * Callers decide what to do with that: retry, answer 503 `unavailable`, or wait.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    if (current instanceof ConnectionException) return true;
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_GONE.test(code))) return true;
    if (typeof message === 'string' && DRIVER_MESSAGES.test(message)) return true;
    current = cause;
  }
  return false;
}
