import type { Event } from 'socket.io';
import type { Logger } from '../logger.ts';
import type { AckError, ClientToServerEvents } from '../relay/events.ts';
import { ackErrorFor } from './answer.ts';
import { type MessageBudget, spendMessage } from './messageBudget.ts';
import type { RealtimeSocket } from './types.ts';

/** Every client → server event; a Record, so an event added to the contract must be listed here. */
const KNOWN_EVENTS: Record<keyof ClientToServerEvents, true> = {
  'system:ping': true,
  'chat:send': true,
  'chat:cancel': true,
  'chat:resume': true,
};

const isKnown = (event: unknown): event is keyof ClientToServerEvents =>
  typeof event === 'string' && Object.hasOwn(KNOWN_EVENTS, event);

/**
 * Runs before the handlers, on every incoming event: handlers only see `(payload, ack)`. A call
 * they could not answer (an unknown event, or a known one whose ack is not its second argument,
 * e.g. `emit('chat:send', ack)`) is answered here, `unknown_event` or `invalid_payload`, counted
 * against the message limit like any other call. Calls without an ack have nobody to answer.
 */
export function guardAcks(socket: RealtimeSocket, deps: MessageBudget & { logger: Logger }): void {
  socket.use((packet: Event, next) => {
    const [event, ...args] = packet;
    // Socket.IO hands the client's ack callback over as the last argument.
    const ack = args.at(-1);
    if (typeof ack !== 'function') return isKnown(event) ? next() : undefined;
    if (isKnown(event) && args.length === 2) return next();

    const refusal: AckError = isKnown(event)
      ? {
          code: 'invalid_payload',
          message: `${event} takes (payload, ack): one payload object, then the ack.`,
        }
      : {
          code: 'unknown_event',
          message: `No such event: ${JSON.stringify(String(event)).slice(0, 100)}. See docs/realtime.md.`,
        };
    void spendMessage(deps, socket.data.userId).then(
      () => ack(refusal),
      (error: unknown) => ack(ackErrorFor(error, deps.logger)),
    );
  });
}
