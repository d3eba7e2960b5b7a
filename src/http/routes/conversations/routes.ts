import Router from '@koa/router';
import { sendMessageSchema } from '../../../chat/schema.ts';
import { Conversation } from '../../../db/entities/Conversation.ts';
import { Message } from '../../../db/entities/Message.ts';
import { deleteOwnConversation, ownConversation, ownDocuments } from '../../../policies/ownership.ts';
import { presentConversation } from '../../../presenters/conversation.ts';
import { presentMessage } from '../../../presenters/message.ts';
import type { EdgeServices } from '../../EdgeServices.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { jsonBody } from '../../middleware/jsonBody.ts';
import { byUser, rateLimit } from '../../middleware/rateLimit.ts';
import { decodeKeysetCursor, encodeKeysetCursor, toPage } from '../../pagination.ts';
import { validationFailed } from '../../problem.ts';
import type { AppState, RouteContext } from '../../state.ts';
import { parseBody, parseParams, parseQuery } from '../../validation.ts';
import {
  conversationParams,
  createConversationSchema,
  listConversationsQuery,
  listMessagesQuery,
  updateConversationSchema,
} from './schema.ts';

/** Conversations and their messages under /api/v1/conversations; every query is the user's own. */
export function conversationRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens, config, chat, limiter } = services;
  const router = new Router<AppState>({ prefix: '/conversations' });
  const body = jsonBody(config.http.maxJsonBytes);
  router.use(authenticate(orm, accessTokens));

  /** The conversation named by the path, if it is the user's (404 otherwise). */
  const own = (ctx: RouteContext, withDocuments = false) =>
    ownConversation(orm.em, ctx.state.user, parseParams(ctx, conversationParams).id, { withDocuments });

  router.post('/', body, async (ctx) => {
    const input = parseBody(ctx, createConversationSchema);
    const em = orm.em.fork();
    if (input.model) await services.models.require(em, input.model);
    const conversation = em.create(Conversation, {
      user: ctx.state.user.id,
      title: input.title ?? null,
      mode: input.mode ?? 'chat',
      model: input.model ?? null,
      tools: input.tools ?? true,
    });
    if (input.documentIds)
      conversation.documents.set(await ownDocuments(em, ctx.state.user, input.documentIds));
    await em.flush();
    await em.populate(conversation, ['documents']);
    ctx.status = 201;
    ctx.body = presentConversation(conversation);
  });

  router.get('/', async (ctx) => {
    const { limit, cursor, q } = parseQuery(ctx, listConversationsQuery);
    const after = cursor ? decodeKeysetCursor(cursor) : null;
    if (cursor && !after)
      throw validationFailed([{ path: 'query.cursor', message: 'is not a cursor from this list' }]);
    const pattern = q ? `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
    const rows = await orm.em.find(
      Conversation,
      {
        user: ctx.state.user,
        ...(pattern ? { title: { $ilike: pattern } } : {}),
        ...(after
          ? {
              $or: [{ lastMessageAt: { $lt: after.at } }, { lastMessageAt: after.at, id: { $lt: after.id } }],
            }
          : {}),
      },
      { orderBy: { lastMessageAt: 'desc', id: 'desc' }, limit: limit + 1 },
    );
    const page = toPage(rows, limit, presentConversation);
    const last = rows[limit - 1];
    ctx.body = {
      ...page,
      nextCursor: page.nextCursor && last ? encodeKeysetCursor(last.lastMessageAt, last.id) : null,
    };
  });

  router.get('/:id', async (ctx) => {
    ctx.body = presentConversation(await own(ctx, true));
  });

  router.patch('/:id', body, async (ctx) => {
    const input = parseBody(ctx, updateConversationSchema);
    const conversation = await own(ctx, true);
    if (input.model) await services.models.require(orm.em, input.model);
    if (input.model !== undefined) conversation.model = input.model;
    if (input.title !== undefined) conversation.title = input.title;
    if (input.mode !== undefined) conversation.mode = input.mode;
    if (input.tools !== undefined) conversation.tools = input.tools;
    if (input.documentIds !== undefined) {
      conversation.documents.set(await ownDocuments(orm.em, ctx.state.user, input.documentIds));
    }
    await orm.em.flush();
    ctx.body = presentConversation(conversation);
  });

  router.delete('/:id', async (ctx) => {
    const conversation = await own(ctx);
    await chat.cancelAllIn(ctx.state.user, conversation.id);
    // Messages go with it (foreign keys cascade).
    await deleteOwnConversation(orm.em, ctx.state.user, conversation.id);
    ctx.status = 204;
  });

  router.get('/:id/messages', async (ctx) => {
    const conversation = await own(ctx);
    const { limit, cursor } = parseQuery(ctx, listMessagesQuery);
    // Newest page first, older pages by cursor; within a page, oldest → newest.
    const rows = await orm.em.find(
      Message,
      { conversation, user: ctx.state.user, ...(cursor ? { id: { $lt: cursor } } : {}) },
      { orderBy: { id: 'desc' }, limit: limit + 1 },
    );
    const page = toPage(rows, limit, presentMessage);
    ctx.body = { items: page.items.reverse(), nextCursor: page.nextCursor };
  });

  router.post(
    '/:id/messages',
    rateLimit(limiter, 'messages', config.rateLimits.messages, byUser),
    body,
    async (ctx) => {
      const { id } = parseParams(ctx, conversationParams);
      const input = parseBody(ctx, sendMessageSchema);
      const turn = await chat.send(ctx.state.user, { conversationId: id, ...input });
      ctx.status = 202;
      ctx.body = {
        userMessage: presentMessage(turn.userMessage),
        assistantMessage: presentMessage(turn.assistantMessage),
      };
    },
  );

  return router;
}
