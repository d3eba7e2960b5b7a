import { ZodError } from 'zod';
import { isDatabaseUnavailable } from '../db/databaseUnavailable.ts';
import { AppError, briefOutage } from '../errors/AppError.ts';
import type { Logger } from '../logger.ts';
import type { AckError } from '../relay/events.ts';

/**
 * Runs a socket call and acks its outcome `(null, result)` or `(error)`, exactly once: a call
 * that expects an answer never waits forever, whatever `work` throws.
 */
export async function answer<Result>(
  ack: ((error: AckError | null, result?: Result) => void) | undefined,
  logger: Logger,
  work: () => Promise<Result>,
): Promise<void> {
  if (typeof ack !== 'function') return;
  let result: Result;
  try {
    result = await work();
  } catch (error) {
    return ack(ackErrorFor(error, logger));
  }
  ack(null, result);
}

/**
 * The ack error a client sees for what a handler threw: the one mapping of AppErrors to socket
 * acks (HTTP's is problemFor in http/problem.ts). Internals stay in the log.
 */
export function ackErrorFor(error: unknown, logger: Logger): AckError {
  if (error instanceof ZodError) {
    const fields = error.issues
      .map((issue) => `${issue.path.join('.') || 'payload'}: ${issue.message}`)
      .join('; ');
    return { code: 'validation_failed', message: fields };
  }
  if (error instanceof AppError) return ackErrorOf(error);
  if (isDatabaseUnavailable(error)) {
    logger.warn({ err: (error as Error).message }, 'socket call refused: database unavailable');
    return ackErrorOf(briefOutage());
  }
  logger.error({ err: error }, 'socket handler failed');
  return { code: 'internal_error', message: 'Something went wrong on our side.' };
}

const ackErrorOf = ({ code, message, details: { retryAfterSeconds } }: AppError): AckError => ({
  code,
  message,
  ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
});
