import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { Queues } from '../queues/Queues.ts';
import type { RedisConnections } from '../queues/redisConnections.ts';
import type { AckError, ClientToServerEvents, ServerToClientEvents } from './events.ts';

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>;

const pingSchema = z.object({ nonce: z.string().min(1).max(100) }).strict();

const invalid = (message: string): AckError => ({ code: 'validation_failed', message });

export function createRealtimeServer(
  httpServer: HttpServer,
  deps: { redis: RedisConnections; queues: Queues; logger: Logger; corsOrigins: string[] },
): RealtimeServer {
  const io: RealtimeServer = new Server(httpServer, {
    cors: { origin: deps.corsOrigins.length > 0 ? deps.corsOrigins : false },
    // The relay runs through Redis so any edge node reaches any socket; resume is ours (see stream/).
    adapter: createAdapter(
      deps.redis.create('pubsub', 'socket.io-pub'),
      deps.redis.create('pubsub', 'socket.io-sub'),
    ),
  });

  io.on('connection', (socket) => {
    socket.on('system:ping', async (payload, ack) => {
      if (typeof ack !== 'function') return;
      const parsed = pingSchema.safeParse(payload);
      if (!parsed.success) return ack(invalid('expected { nonce: string }'));
      try {
        const job = await deps.queues.add('maintenance', 'probe', {
          nonce: parsed.data.nonce,
          socketId: socket.id,
        });
        ack(null, { jobId: job.id! });
      } catch (error) {
        deps.logger.warn({ err: (error as Error).message }, 'probe could not be enqueued');
        ack({ code: 'unavailable', message: 'the job queue is unavailable, try again shortly' });
      }
    });
  });
  return io;
}
