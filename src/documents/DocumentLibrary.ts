import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { Document } from '../db/entities/Document.ts';
import { DocumentFile } from '../db/entities/DocumentFile.ts';
import type { User } from '../db/entities/User.ts';
import type { Orm } from '../db/orm.ts';
import { AppError } from '../errors/AppError.ts';
import { DOCUMENT_MIME, recognizeDocument } from '../ingest/documentKind.ts';
import type { Logger } from '../logger.ts';
import { deleteOwnDocument, findOwnDocument } from '../policies/ownership.ts';
import { JobStopper } from '../queues/JobStopper.ts';
import { ingestJobId } from '../queues/jobs.ts';
import type { Queues } from '../queues/Queues.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { deleteChunksInBatches, dropOwnIndexIfSmall } from './chunkDeletion.ts';

export interface Upload {
  filename: string;
  bytes: Buffer;
}

const unsupportedDocument = (looksLike: string) =>
  new AppError(
    'unsupported_document',
    /\btext\b/.test(looksLike)
      ? `This file looks like ${looksLike}, which Parley cannot read: text must be UTF-8, UTF-16 with a byte-order mark, or Windows-1252 (ISO-8859-1). Save it as UTF-8 and upload it again.`
      : `Only PDF, plain-text and Markdown documents are supported, and this file is none of them (it looks like ${looksLike}).`,
    { extensions: { looksLike } },
  );

/**
 * The edge's side of documents: accept an upload (recognised by content, stored in Postgres,
 * queued for ingestion) and delete one (rows gone, its job stopped wherever it runs).
 */
export class DocumentLibrary {
  private readonly orm: Orm;
  private readonly queues: Queues;
  private readonly logger: Logger;
  private readonly jobs: JobStopper;

  constructor(deps: { orm: Orm; queues: Queues; redis: Redis; logger: Logger }) {
    this.orm = deps.orm;
    this.queues = deps.queues;
    this.logger = deps.logger;
    this.jobs = new JobStopper(deps.queues, deps.redis);
  }

  /** The stored document and whether this upload created it (same bytes again → the existing one). */
  async upload(user: User, upload: Upload): Promise<{ document: Document; created: boolean }> {
    const recognized = recognizeDocument(upload.bytes, upload.filename);
    if (!recognized.kind) throw unsupportedDocument(recognized.looksLike);
    const { kind } = recognized;
    const sha256 = createHash('sha256').update(upload.bytes).digest('hex');
    const existing = await this.orm.em.fork().findOne(Document, { user, sha256 });
    if (existing) return { document: await this.retryIfFailed(existing), created: false };

    const em = this.orm.em.fork();
    let document: Document;
    try {
      document = await em.transactional(async (tx) => {
        const created = tx.create(Document, {
          user: user.id,
          filename: cleanFilename(upload.filename),
          mime: DOCUMENT_MIME[kind],
          size: upload.bytes.length,
          sha256,
          status: 'queued',
        });
        tx.create(DocumentFile, { document: created, bytes: upload.bytes });
        return created;
      });
    } catch (error) {
      // The same file uploaded twice at once: the other request stored it.
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
      const winner = await this.orm.em.fork().findOneOrFail(Document, { user, sha256 });
      return { document: winner, created: false };
    }
    try {
      await this.enqueue(document);
    } catch (error) {
      // Nothing half-written: without its job the document would sit `queued` forever.
      await this.orm.em.fork().nativeDelete(Document, { id: document.id });
      throw error;
    }
    return { document, created: true };
  }

  async remove(user: User, id: string): Promise<boolean> {
    const em = this.orm.em.fork();
    if (!(await findOwnDocument(em, user, id))) return false;
    // Chunks first, in short batches, then the document (its file and any chunk an ingest job
    // stored meanwhile cascade with it).
    const chunks = await deleteChunksInBatches(em, { documentId: id, userId: user.id });
    if (!(await deleteOwnDocument(em, user, id))) return false;
    if (chunks > 0) await dropOwnIndexIfSmall(em, user.id);
    await this.jobs.stop('ingest', ingestJobId(id)).catch((error: Error) =>
      // The rows are gone, so a job that keeps running stores nothing; this only saves work.
      this.logger.warn({ documentId: id, err: error.message }, 'ingest job not stopped'),
    );
    return true;
  }

  /** A failed document uploaded again gets another try instead of its old error. */
  private async retryIfFailed(document: Document): Promise<Document> {
    if (document.status !== 'failed') return document;
    const em = this.orm.em.fork();
    const updated = await em.nativeUpdate(
      Document,
      { id: document.id, status: 'failed' },
      { status: 'queued', progress: 0, error: null, chunkCount: 0 },
    );
    if (updated === 0) return document;
    await (await this.queues.get('ingest').getJob(ingestJobId(document.id)))?.remove();
    await this.enqueue(document);
    return em.findOneOrFail(Document, { id: document.id });
  }

  private enqueue(document: Document) {
    return this.queues.add(
      'ingest',
      'ingest-document',
      { userId: document.user.id, documentId: document.id },
      { jobId: ingestJobId(document.id) },
    );
  }
}

/** The name as shown back to the user: no path, no control characters, bounded length. */
function cleanFilename(raw: string): string {
  const name = basename(raw.replaceAll('\\', '/'))
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return (name || 'document').slice(0, 255);
}
