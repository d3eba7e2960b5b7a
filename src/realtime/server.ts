import { createAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import { type AccessTokens, InvalidTokenError } from '../auth/AccessTokens.ts';
import type { RateLimitRule } from '../config.ts';
import { User } from '../db/entities/User.ts';
import { unavailable } from '../errors/AppError.ts';
import type { Logger } from '../logger.ts';
import type { Queues } from '../queues/Queues.ts';
import type { RateLimiter } from '../rateLimit/RateLimiter.ts';
import type { RedisConnections } from '../redis/connections.ts';
import { realtimeChannel } from '../redis/keys.ts';
import { systemPingSchema } from '../relay/eventSchemas.ts';
import { userRoom } from '../relay/events.ts';
import { guardAcks } from './ackGuard.ts';
import { ackErrorFor, answer } from './answer.ts';
import { SOCKET_MAX_BUFFER_BYTES } from './bufferLimit.ts';
import { type ChatHandlerDeps, registerChatHandlers } from './chatHandlers.ts';
import { handshakeOriginAllowed } from './handshakeOrigin.ts';
import { spendMessage } from './messageBudget.ts';
import type { RealtimeServer } from './types.ts';

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
    // Past this one message closes its connection instead of being answered (bufferLimit.ts).
    maxHttpBufferSize: SOCKET_MAX_BUFFER_BYTES,
    cors: { origin: deps.corsOrigins.length > 0 ? deps.corsOrigins : false },
    // CORS headers don't bind WebSockets: the handshake itself checks the page's origin.
    allowRequest: (request, decide) => {
      if (handshakeOriginAllowed(request, deps.corsOrigins, deps.trustProxy)) return decide(null, true);
      deps.logger.info({ origin: request.headers.origin }, 'socket handshake refused: origin not allowed');
      decide('This origin may not open sockets here (see CORS_ORIGINS).', false);
    },
    // The relay runs through Redis so any edge node reaches any socket; resume is ours (see relay/).
    adapter: createAdapter(
      deps.redis.create('pubsub', 'socket.io-pub'),
      deps.redis.create('pubsub', 'socket.io-sub'),
      { key: realtimeChannel(deps.queues.prefix) },
    ),
  });

  // The handshake must carry a valid access token of an active account; the socket then joins
  // its user's room. The account is read on every handshake, as on every HTTP request: a disabled
  // user's sockets are disconnected (see Presence) and must not come back with a token still valid.
  io.use(async (socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown })?.token;
    let userId: string;
    try {
      if (typeof token !== 'string' || token.length === 0) throw new InvalidTokenError('token_invalid');
      ({ userId } = await deps.accessTokens.verify(token));
    } catch (error) {
      const reason = error instanceof InvalidTokenError ? error.reason : 'token_invalid';
      return next(handshakeRefusal(reason, typeof token === 'string'));
    }
    try {
      const active = await deps.chat.orm.em.fork().count(User, { id: userId, disabledAt: null });
      if (active === 0) return next(handshakeRefusal('account_inactive', true));
    } catch (error) {
      const { code, message, retryAfterSeconds } = ackErrorFor(error, deps.logger);
      return next(Object.assign(new Error(message), { data: { code, message, retryAfterSeconds } }));
    }
    socket.data.userId = userId;
    next();
  });

  io.on('connection', (socket) => {
    void socket.join(userRoom(socket.data.userId));
    guardAcks(socket, deps);
    registerChatHandlers(socket, {
      ...deps.chat,
      limiter: deps.limiter,
      messageLimit: deps.messageLimit,
      logger: deps.logger,
    });

    socket.on('system:ping', (payload, ack) =>
      answer(ack, deps.logger, async () => {
        const { nonce } = systemPingSchema.parse(payload);
        await spendMessage(deps, socket.data.userId);
        try {
          const job = await deps.queues.add('maintenance', 'probe', { nonce, socketId: socket.id });
          return { jobId: job.id! };
        } catch (error) {
          deps.logger.warn({ err: (error as Error).message }, 'probe could not be enqueued');
          throw unavailable('the job queue is unavailable, try again shortly', 5);
        }
      }),
    );
  });
  return io;
}

/** What the client's `connect_error` carries: `message` and `data.code` say whether to refresh. */
function handshakeRefusal(reason: 'token_expired' | 'token_invalid' | 'account_inactive', hadToken: boolean) {
  const code = reason === 'token_expired' ? 'token_expired' : 'unauthorized';
  const message =
    reason === 'token_expired'
      ? 'The access token has expired: refresh it and reconnect.'
      : reason === 'account_inactive'
        ? 'The account behind this token is no longer active.'
        : hadToken
          ? 'The access token is not valid.'
          : 'Connect with auth: { token: <access token> }.';
  return Object.assign(new Error(message), { data: { code, message } });
}
