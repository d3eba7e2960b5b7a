import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import { TERMINAL_MESSAGE_STATUSES } from '../../../db/entities/Message.ts';
import { findOwnMessage, ownAssistantMessage } from '../../../policies/ownership.ts';
import { presentMessage } from '../../../presenters/message.ts';
import type { StreamEvent } from '../../../relay/events.ts';
import { isTerminal, terminalId } from '../../../relay/replayLog.ts';
import { doneFromStoredMessage } from '../../../relay/terminalEvent.ts';
import type { EdgeServices } from '../../EdgeServices.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { byUser, rateLimit } from '../../middleware/rateLimit.ts';
import type { AppState } from '../../state.ts';
import { parseParams, parseQuery } from '../../validation.ts';
import { idAfter, resumePosition } from './resumePosition.ts';
import { messageParams, streamQuery } from './schema.ts';

/** How long one XREAD waits before checking that the client is still there. */
const TAIL_BLOCK_MS = 5_000;

/** Cancel, regenerate and the Server-Sent-Events stream of one answer, under /api/v1/messages. */
export function messageRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens, chat, limiter, config, replay, redis, logger } = services;
  const router = new Router<AppState>({ prefix: '/messages' });
  router.use(authenticate(orm, accessTokens));

  router.post('/:id/cancel', async (ctx) => {
    const { id } = parseParams(ctx, messageParams);
    ctx.status = 202;
    ctx.body = presentMessage(await chat.cancel(ctx.state.user, id));
  });

  router.post(
    '/:id/regenerate',
    rateLimit(limiter, 'messages', config.rateLimits.messages, byUser),
    async (ctx) => {
      const { id } = parseParams(ctx, messageParams);
      ctx.status = 202;
      ctx.body = { assistantMessage: presentMessage(await chat.regenerate(ctx.state.user, id)) };
    },
  );

  /**
   * The same events as the socket, for clients without Socket.IO: what the replay log holds
   * after `afterSeq` (or the `Last-Event-ID` a reconnecting EventSource sends, whichever is
   * later), then the live tail, until the answer ends or the client leaves.
   */
  router.get('/:id/stream', async (ctx) => {
    const { id } = parseParams(ctx, messageParams);
    const position = resumePosition(
      parseQuery(ctx, streamQuery).afterSeq,
      ctx.get('last-event-id') || undefined,
    );
    const { afterSeq } = position;
    await ownAssistantMessage(orm.em, ctx.state.user, id);
    if (position.ended) {
      // The client has the end already; 204 is what tells an EventSource not to reconnect.
      ctx.status = 204;
      return;
    }

    const stream = new PassThrough();
    ctx.status = 200;
    ctx.set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    ctx.body = stream;
    const send = ({ event, data }: StreamEvent, id?: string) =>
      stream.write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

    let closed = false;
    ctx.req.once('close', () => {
      closed = true;
    });
    void (async () => {
      const blocking = redis.create('blocking', 'sse-tail');
      try {
        const start = position.afterId ?? `${afterSeq}-0`;
        let lastId = start;
        let ended = false;
        for (const entry of await replay.after(id, afterSeq)) {
          if (position.afterId !== undefined && !idAfter(entry.id, position.afterId)) continue;
          send(entry.event, entry.id);
          lastId = entry.id;
          ended ||= isTerminal(entry.event);
        }
        if (!ended && lastId === start) {
          // Nothing logged: either the answer ended long ago (log expired) or it has not begun.
          const current = await findOwnMessage(orm.em.fork(), ctx.state.user, id);
          if (current && TERMINAL_MESSAGE_STATUSES.includes(current.status)) {
            // An end id, so an EventSource that reconnects by itself is told 204 instead of this again.
            send(doneFromStoredMessage(current), terminalId(afterSeq));
            ended = true;
          }
        }
        while (!ended && !closed) {
          for (const entry of await replay.next(blocking, id, lastId, TAIL_BLOCK_MS)) {
            send(entry.event, entry.id);
            lastId = entry.id;
            ended ||= isTerminal(entry.event);
          }
        }
      } catch (error) {
        logger.warn({ messageId: id, err: (error as Error).message }, 'SSE stream failed');
      } finally {
        blocking.disconnect();
        stream.end();
      }
    })();
  });

  return router;
}
