import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import type { ServerToClientEvents } from './events.ts';

export type RealtimeEmitter = Emitter<ServerToClientEvents>;

/**
 * Workers publish to Socket.IO rooms without running a server: the emitter writes to the
 * same Redis channel the edges' adapter listens on, so every edge node relays the event.
 */
export const createRealtimeEmitter = (publisher: Redis): RealtimeEmitter =>
  new Emitter<ServerToClientEvents>(publisher);
