import type { Socket } from 'socket.io-client';
import type { AckError } from '../../src/relay/events.ts';

/**
 * Emits and resolves with both ack arguments `[error, result]`, the contract's ack shape
 * (socket.io-client's emitWithAck would keep only the first).
 */
export function emitAck<Result>(
  socket: Socket,
  event: string,
  payload: unknown,
): Promise<[AckError | null, Result | undefined]> {
  return new Promise((resolve) => {
    socket.emit(event, payload, (error: AckError | null, result?: Result) => resolve([error, result]));
  });
}
