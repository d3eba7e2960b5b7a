import { ZodError } from 'zod';
import type { ChatService } from '../chat/ChatService.ts';
import { chatCancelSchema, chatResumeSchema, chatSendSchema } from '../chat/schema.ts';
import { doneFromStoredMessage } from '../chat/storedOutcome.ts';
import type { RateLimitRule } from '../config.ts';
import { Message, TERMINAL_MESSAGE_STATUSES } from '../db/entities/Message.ts';
import { User } from '../db/entities/User.ts';
import type { Orm } from '../db/orm.ts';
import { Problem } from '../http/problem.ts';
import type { Logger } from '../logger.ts';
import type { RateLimiter } from '../rateLimit/RateLimiter.ts';
import type { ReplayReader } from '../stream/ReplayReader.ts';
import { isTerminal } from '../stream/replayLog.ts';
import type { AckError } from './events.ts';
import type { RealtimeSocket } from './server.ts';

export interface ChatHandlerDeps {
  orm: Orm;
  chat: ChatService;
  replay: ReplayReader;
  limiter: RateLimiter;
  messageLimit: RateLimitRule;
  logger: Logger;
}

/** chat:send, chat:cancel and chat:resume: the same service as the REST routes, acked `(err, result)`. */
export function registerChatHandlers(socket: RealtimeSocket, deps: ChatHandlerDeps): void {
  const currentUser = async () => {
    const user = await deps.orm.em.fork().findOne(User, { id: socket.data.userId, disabledAt: null });
    if (!user)
      throw new Problem(401, 'unauthorized', 'The account behind this connection is no longer active.');
    return user;
  };

  socket.on('chat:send', (payload, ack) =>
    answer(ack, deps.logger, async () => {
      const input = chatSendSchema.parse(payload);
      const decision = await deps.limiter.hit('messages', `user:${socket.data.userId}`, deps.messageLimit);
      if (!decision.allowed) {
        throw new Problem(
          429,
          'rate_limited',
          `Too many messages; try again in ${decision.retryAfterSeconds} s.`,
        );
      }
      const turn = await deps.chat.send(await currentUser(), input);
      return {
        conversationId: turn.conversation.id,
        userMessageId: turn.userMessage.id,
        assistantMessageId: turn.assistantMessage.id,
      };
    }),
  );

  socket.on('chat:cancel', (payload, ack) =>
    answer(ack, deps.logger, async () => {
      const { messageId } = chatCancelSchema.parse(payload);
      await deps.chat.cancel(await currentUser(), messageId);
      return { ok: true as const };
    }),
  );

  // Replays what this socket missed; the live tail reaches it through the user's room anyway,
  // and the client drops by seq whatever it receives twice.
  socket.on('chat:resume', (payload, ack) =>
    answer(ack, deps.logger, async () => {
      const { messageId, afterSeq } = chatResumeSchema.parse(payload);
      const message = await deps.orm.em
        .fork()
        .findOne(Message, { id: messageId, user: socket.data.userId, role: 'assistant' });
      if (!message) throw new Problem(404, 'not_found', 'The message does not exist.');
      const entries = await deps.replay.after(messageId, afterSeq);
      const emit = socket.emit as (event: string, data: unknown) => void;
      for (const { event } of entries) emit.call(socket, event.event, event.data);
      if (
        !entries.some(({ event }) => isTerminal(event)) &&
        TERMINAL_MESSAGE_STATUSES.includes(message.status) &&
        entries.length === 0
      ) {
        const end = doneFromStoredMessage(message);
        emit.call(socket, end.event, end.data);
      }
      return { ok: true as const, replayed: entries.length };
    }),
  );
}

async function answer<Result>(
  ack: ((error: AckError | null, result?: Result) => void) | undefined,
  logger: Logger,
  work: () => Promise<Result>,
): Promise<void> {
  if (typeof ack !== 'function') return;
  try {
    ack(null, await work());
  } catch (error) {
    if (error instanceof ZodError) {
      const fields = error.issues
        .map((issue) => `${issue.path.join('.') || 'payload'}: ${issue.message}`)
        .join('; ');
      return ack({ code: 'validation_failed', message: fields });
    }
    if (error instanceof Problem) return ack({ code: error.code, message: error.message });
    logger.error({ err: error }, 'socket handler failed');
    ack({ code: 'internal_error', message: 'Something went wrong on our side.' });
  }
}
