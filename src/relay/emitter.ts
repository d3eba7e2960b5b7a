import { Emitter } from '@socket.io/redis-emitter';
import type { RedisClient as Redis } from '../queues/redisConnections.ts';
import type { ServerToClientEvents } from './events.ts';
import { orderedPublisher } from './orderedPublisher.ts';

export type RealtimeEmitter = Emitter<ServerToClientEvents>;

/** The adapter's pub/sub channel, namespaced like the queues so deployments sharing a Redis stay apart. */
export const realtimeChannel = (prefix: string) => `${prefix}:socket.io`;

/**
 * Workers publish to Socket.IO rooms without running a server: the emitter writes to the
 * same Redis channel the edges' adapter listens on, so every edge node relays the event. On a
 * cluster every publish goes through one node, so an answer's events keep their order.
 */
export const createRealtimeEmitter = (publisher: Redis, prefix: string): RealtimeEmitter =>
  new Emitter<ServerToClientEvents>(orderedPublisher(publisher), { key: realtimeChannel(prefix) });
