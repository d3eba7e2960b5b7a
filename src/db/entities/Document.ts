import { defineEntity, p } from '@mikro-orm/core';
import { createdAtColumn, idColumn, updatedAtColumn } from '../columns.ts';
import { User } from './User.ts';

export const DOCUMENT_STATUSES = ['queued', 'processing', 'ready', 'failed'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

export const DocumentSchema = defineEntity({
  name: 'Document',
  tableName: 'documents',
  properties: {
    id: idColumn(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    filename: p.string().length(255),
    mime: p.string().length(100),
    size: p.integer(),
    sha256: p.string().length(64),
    status: p.enum(DOCUMENT_STATUSES).default('queued'),
    progress: p.double().default(0),
    error: p.text().nullable(),
    chunkCount: p.integer().default(0),
    pageCount: p.integer().nullable(),
    createdAt: createdAtColumn(),
    updatedAt: updatedAtColumn(),
  },
  uniques: [{ name: 'documents_user_sha256_unique', properties: ['user', 'sha256'] }],
  indexes: [{ name: 'documents_user_created_idx', properties: ['user', 'createdAt'] }],
});

export class Document extends DocumentSchema.class {}
DocumentSchema.setClass(Document);
