import { defineEntity, p } from '@mikro-orm/core';
import {
  createdAtColumn,
  embeddingColumn,
  ginSearchIndex,
  idColumn,
  searchVectorColumn,
} from '../columns.ts';
import { Document } from './Document.ts';
import { User } from './User.ts';

export const DocumentChunkSchema = defineEntity({
  name: 'DocumentChunk',
  tableName: 'document_chunks',
  properties: {
    id: idColumn(),
    document: () => p.manyToOne(Document).deleteRule('cascade'),
    // Denormalised owner: retrieval filters by user in SQL without a join.
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    ordinal: p.integer(),
    page: p.integer().nullable(),
    content: p.text(),
    tokenCount: p.integer(),
    embedding: embeddingColumn(),
    searchVector: searchVectorColumn('content'),
    createdAt: createdAtColumn(),
  },
  uniques: [{ name: 'document_chunks_document_ordinal_unique', properties: ['document', 'ordinal'] }],
  // No HNSW index over every user's chunks: users with many get one of their own (partial, made
  // at run time by src/retrieval/ownVectorIndex.ts), the others are searched exactly.
  indexes: [ginSearchIndex('document_chunks', 'document_chunks_search_gin')],
});

export class DocumentChunk extends DocumentChunkSchema.class {}
DocumentChunkSchema.setClass(DocumentChunk);
