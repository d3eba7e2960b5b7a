import { Emitter } from '@socket.io/redis-emitter';
import { orderedPublisher } from '../redis/cluster.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { realtimeChannel } from '../redis/keys.ts';
import type { ServerToClientEvents } from './events.ts';

export type RealtimeEmitter = Emitter<ServerToClientEvents>;

/**
 * Workers publish to Socket.IO rooms without running a server: the emitter writes to the
 * same Redis channel the edges' adapter listens on, so every edge node relays the event. On a
 * cluster every publish goes through one node, so an answer's events keep their order.
 */
export const createRealtimeEmitter = (publisher: Redis, prefix: string): RealtimeEmitter =>
  new Emitter<ServerToClientEvents>(orderedPublisher(publisher), { key: realtimeChannel(prefix) });
