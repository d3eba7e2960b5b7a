import type { RealtimeEmitter } from './emitter.ts';
import { type ServerToClientEvents, userRoom } from './events.ts';

/** What the client receives with `event`, as typed in ServerToClientEvents. */
export type NoticePayload<Event extends keyof ServerToClientEvents> = Parameters<
  ServerToClientEvents[Event]
>[0];

/** Notices for every socket of a user (their user room). */
export type UserNotice = 'document:progress' | 'conversation:updated';
/** Notices for the one socket that asked. */
export type SocketNotice = 'system:pong';

/**
 * Sends the notices that are not part of an answer's stream (those go through TokenPublisher,
 * which also logs them for replay), from any process, through the Redis emitter: every edge node
 * relays them to its sockets. Unlike an answer's events, notices are not logged for replay, and
 * nothing waits for them.
 */
export class Notifier {
  private readonly emitter: RealtimeEmitter;

  constructor(emitter: RealtimeEmitter) {
    this.emitter = emitter;
  }

  /** To every socket of the user, on every edge node. */
  user<Event extends UserNotice>(userId: string, event: Event, payload: NoticePayload<Event>): void {
    this.send(userRoom(userId), event, payload);
  }

  /** To one socket, by its id (e.g. the one that sent `system:ping`). */
  socket<Event extends SocketNotice>(socketId: string, event: Event, payload: NoticePayload<Event>): void {
    this.send(socketId, event, payload);
  }

  private send(room: string, event: keyof ServerToClientEvents, payload: unknown): void {
    // The public methods type the payload by event; the emitter can't follow a generic event name.
    (this.emitter.to(room).emit as (event: string, data: unknown) => void)(event, payload);
  }
}
