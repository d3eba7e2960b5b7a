import type { Document } from '../db/entities/Document.ts';

export interface DocumentPresentation {
  id: string;
  filename: string;
  mime: string;
  size: number;
  sha256: string;
  status: Document['status'];
  progress: number;
  chunkCount: number;
  pageCount: number | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export const presentDocument = (document: Document): DocumentPresentation => ({
  id: document.id,
  filename: document.filename,
  mime: document.mime,
  size: document.size,
  sha256: document.sha256,
  status: document.status,
  progress: Number(document.progress),
  chunkCount: document.chunkCount,
  pageCount: document.pageCount ?? null,
  error: document.error ?? null,
  createdAt: document.createdAt.toISOString(),
  updatedAt: document.updatedAt.toISOString(),
});
