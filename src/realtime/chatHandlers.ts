import type { ChatService } from '../chat/ChatService.ts';
import { chatCancelSchema, chatResumeSchema, chatSendSchema } from '../chat/schema.ts';
import { TERMINAL_MESSAGE_STATUSES } from '../db/entities/Message.ts';
import { User } from '../db/entities/User.ts';
import type { Orm } from '../db/orm.ts';
import { unauthorized } from '../errors/AppError.ts';
import type { Logger } from '../logger.ts';
import { ownAssistantMessage } from '../policies/ownership.ts';
import type { ReplayReader } from '../relay/ReplayReader.ts';
import { isTerminal } from '../relay/replayLog.ts';
import { doneFromStoredMessage } from '../relay/terminalEvent.ts';
import { answer } from './answer.ts';
import { type MessageBudget, spendMessage } from './messageBudget.ts';
import type { RealtimeSocket } from './types.ts';

export interface ChatHandlerDeps extends MessageBudget {
  orm: Orm;
  chat: ChatService;
  replay: ReplayReader;
  logger: Logger;
}

/** chat:send, chat:cancel and chat:resume: the same service as the REST routes, acked `(err, result)`. */
export function registerChatHandlers(socket: RealtimeSocket, deps: ChatHandlerDeps): void {
  // The handshake checked the account, and disabling it disconnects its sockets (Presence);
  // chat:send checks it again inside its own statement, so only cancel reads it here.
  const currentUser = async () => {
    const user = await deps.orm.em.fork().findOne(User, { id: socket.data.userId, disabledAt: null });
    if (!user) throw unauthorized('The account behind this connection is no longer active.');
    return user;
  };

  socket.on('chat:send', (payload, ack) =>
    answer(ack, deps.logger, async () => {
      const input = chatSendSchema.parse(payload);
      await spendMessage(deps, socket.data.userId);
      const turn = await deps.chat.send(socket.data.userId, input);
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
      const message = await ownAssistantMessage(deps.orm.em.fork(), socket.data.userId, messageId);
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
