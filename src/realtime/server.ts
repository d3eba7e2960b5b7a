import { createAdapter } from '@socket.io/redis-adapter';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { type AccessTokens, InvalidTokenError } from '../auth/AccessTokens.ts';
import type { RateLimitRule } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Queues } from '../queues/Queues.ts';
import type { RedisConnections } from '../queues/redisConnections.ts';
import type { RateLimiter } from '../rateLimit/RateLimiter.ts';
import { type ChatHandlerDeps, registerChatHandlers } from './chatHandlers.ts';
import { realtimeChannel } from './emitter.ts';
import {
  type AckError,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SocketData,
  userRoom,
} from './events.ts';
import { handshakeOriginAllowed } from './handshakeOrigin.ts';

export type RealtimeServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
export type RealtimeSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

const pingSchema = z.object({ nonce: z.string().min(1).max(100) }).strict();

const invalid = (message: string): AckError => ({ code: 'validation_failed', message });

/** The Socket.IO server, not yet attached: the edge attaches it to its HTTP server (see edge.ts). */
export function createRealtimeServer(deps: {
  redis: RedisConnections;
  queues: Queues;
  logger: Logger;
  accessTokens: AccessTokens;
  limiter: RateLimiter;
  messageLimit: RateLimitRule;
  corsOrigins: string[];
  trustProxy: boolean;
  chat: Omit<ChatHandlerDeps, 'limiter' | 'messageLimit' | 'logger'>;
}): RealtimeServer {
  const io: RealtimeServer = new Server({
    cors: { origin: deps.corsOrigins.length > 0 ? deps.corsOrigins : false },
    // CORS headers don't bind WebSockets: the handshake itself checks the page's origin.
    allowRequest: (request, decide) => {
      if (handshakeOriginAllowed(request, deps.corsOrigins, deps.trustProxy)) return decide(null, true);
      deps.logger.info({ origin: request.headers.origin }, 'socket handshake refused: origin not allowed');
      decide('This origin may not open sockets here (see CORS_ORIGINS).', false);
    },
    // The relay runs through Redis so any edge node reaches any socket; resume is ours (see stream/).
    adapter: createAdapter(
      deps.redis.create('pubsub', 'socket.io-pub'),
      deps.redis.create('pubsub', 'socket.io-sub'),
      { key: realtimeChannel(deps.queues.prefix) },
    ),
  });

  // The handshake must carry a valid access token; the socket then joins its user's room.
  io.use(async (socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown })?.token;
    try {
      if (typeof token !== 'string' || token.length === 0) throw new InvalidTokenError('token_invalid');
      socket.data.userId = (await deps.accessTokens.verify(token)).userId;
      next();
    } catch (error) {
      next(
        handshakeRefusal(
          error instanceof InvalidTokenError ? error.reason : 'token_invalid',
          typeof token === 'string',
        ),
      );
    }
  });

  io.on('connection', (socket) => {
    void socket.join(userRoom(socket.data.userId));
    registerChatHandlers(socket, {
      ...deps.chat,
      limiter: deps.limiter,
      messageLimit: deps.messageLimit,
      logger: deps.logger,
    });

    socket.on('system:ping', async (payload, ack) => {
      if (typeof ack !== 'function') return;
      const parsed = pingSchema.safeParse(payload);
      if (!parsed.success) return ack(invalid('expected { nonce: string }'));
      const decision = await deps.limiter.hit('messages', `user:${socket.data.userId}`, deps.messageLimit);
      if (!decision.allowed) {
        return ack({
          code: 'rate_limited',
          message: `Too many requests; try again in ${decision.retryAfterSeconds} s.`,
        });
      }
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

/** What the client's `connect_error` carries: `message` and `data.code` say whether to refresh. */
function handshakeRefusal(reason: 'token_expired' | 'token_invalid', hadToken: boolean) {
  const code = reason === 'token_expired' ? 'token_expired' : 'unauthorized';
  const message =
    reason === 'token_expired'
      ? 'The access token has expired: refresh it and reconnect.'
      : hadToken
        ? 'The access token is not valid.'
        : 'Connect with auth: { token: <access token> }.';
  return Object.assign(new Error(message), { data: { code, message } });
}
