import { defineEntity, p } from '@mikro-orm/core';
import { createdAtColumn } from '../columns.ts';
import { Document } from './Document.ts';

/**
 * The uploaded bytes, kept in Postgres so any ingest worker on any machine can read them
 * (no shared disk). A table of its own keeps document listings from dragging blobs along.
 */
export const DocumentFileSchema = defineEntity({
  name: 'DocumentFile',
  tableName: 'document_files',
  properties: {
    document: () => p.oneToOne(Document).primary().owner().deleteRule('cascade'),
    bytes: p.blob().lazy(),
    createdAt: createdAtColumn(),
  },
});

export class DocumentFile extends DocumentFileSchema.class {}
DocumentFileSchema.setClass(DocumentFile);
