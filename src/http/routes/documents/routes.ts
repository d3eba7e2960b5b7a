import Router from '@koa/router';
import { Document } from '../../../db/entities/Document.ts';
import { notFound } from '../../../errors/AppError.ts';
import { ownDocument } from '../../../policies/ownership.ts';
import { presentDocument } from '../../../presenters/document.ts';
import type { EdgeServices } from '../../EdgeServices.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { fileUpload } from '../../middleware/fileUpload.ts';
import { byUser, rateLimit } from '../../middleware/rateLimit.ts';
import { requireEmbedder } from '../../middleware/requireEmbedder.ts';
import { toPage } from '../../pagination.ts';
import type { AppState } from '../../state.ts';
import { parseParams, parseQuery } from '../../validation.ts';
import { documentParams, listDocumentsQuery } from './schema.ts';

/** The user's documents under /api/v1/documents: upload, list, read, delete. */
export function documentRoutes(services: EdgeServices): Router<AppState> {
  const { orm, accessTokens, config, limiter, documents, embedder } = services;
  const router = new Router<AppState>({ prefix: '/documents' });
  router.use(authenticate(orm, accessTokens));

  router.post(
    '/',
    rateLimit(limiter, 'uploads', config.rateLimits.uploads, byUser),
    requireEmbedder(embedder),
    fileUpload('file', config.maxUploadBytes),
    async (ctx) => {
      const { document, created } = await documents.upload(ctx.state.user, {
        filename: ctx.state.upload.originalname,
        bytes: ctx.state.upload.buffer,
      });
      // 202: accepted for ingestion; 200: these bytes were already uploaded, here is that document.
      ctx.status = created ? 202 : 200;
      ctx.set('Location', `${ctx.path.replace(/\/$/, '')}/${document.id}`);
      ctx.body = presentDocument(document);
    },
  );

  router.get('/', async (ctx) => {
    const { limit, cursor } = parseQuery(ctx, listDocumentsQuery);
    const rows = await orm.em.find(
      Document,
      { user: ctx.state.user, ...(cursor ? { id: { $lt: cursor } } : {}) },
      { orderBy: { id: 'desc' }, limit: limit + 1 },
    );
    ctx.body = toPage(rows, limit, presentDocument);
  });

  router.get('/:id', async (ctx) => {
    const { id } = parseParams(ctx, documentParams);
    ctx.body = presentDocument(await ownDocument(orm.em, ctx.state.user, id));
  });

  router.delete('/:id', async (ctx) => {
    const { id } = parseParams(ctx, documentParams);
    if (!(await documents.remove(ctx.state.user, id))) throw notFound('document');
    ctx.status = 204;
  });

  return router;
}
