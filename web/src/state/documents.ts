import { signal } from '@preact/signals';
import { api } from '../api/http.ts';
import type { DocumentInfo, Page } from '../api/types.ts';
import { onServerEvent } from '../realtime/socket.ts';

/** The user's documents: uploads, live ingestion progress, deletion. */

export const documents = signal<DocumentInfo[]>([]);
export const documentsCursor = signal<string | null>(null);
export const documentsLoaded = signal(false);
/** What the last upload batch has to say (duplicates, refusals), for a status line. */
export const uploadNotices = signal<string[]>([]);
export const uploadErrors = signal<string[]>([]);

export async function loadDocuments() {
  const page = await api<Page<DocumentInfo>>('GET', '/api/v1/documents?limit=100');
  documents.value = page.items;
  documentsCursor.value = page.nextCursor;
  documentsLoaded.value = true;
}

export async function loadMoreDocuments() {
  if (!documentsCursor.value) return;
  const page = await api<Page<DocumentInfo>>(
    'GET',
    `/api/v1/documents?limit=100&cursor=${encodeURIComponent(documentsCursor.value)}`,
  );
  const known = new Set(documents.value.map((document) => document.id));
  documents.value = [...documents.value, ...page.items.filter((document) => !known.has(document.id))];
  documentsCursor.value = page.nextCursor;
}

function put(document: DocumentInfo) {
  const others = documents.value.filter((item) => item.id !== document.id);
  documents.value = [document, ...others];
}

export async function uploadFiles(files: readonly File[]) {
  const notices: string[] = [];
  const errors: string[] = [];
  for (const file of files) {
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const response = await fetchUpload(form);
      // 200 instead of 202: the same bytes were uploaded before.
      if (response.duplicate) notices.push(`Already uploaded: ${response.document.filename}`);
      if (!documents.value.some((item) => item.id === response.document.id)) put(response.document);
    } catch (error) {
      errors.push(`${file.name}: ${(error as Error).message}`);
    }
  }
  uploadNotices.value = notices;
  uploadErrors.value = errors;
}

async function fetchUpload(form: FormData): Promise<{ document: DocumentInfo; duplicate: boolean }> {
  // The status tells a duplicate apart, so this reads the raw response through api's retry path.
  let duplicate = false;
  const document = await api<DocumentInfo>('POST', '/api/v1/documents', {
    body: form,
    onResponse: (response) => {
      duplicate = response.status === 200;
    },
  });
  return { document, duplicate };
}

export async function deleteDocument(id: string) {
  await api('DELETE', `/api/v1/documents/${id}`);
  documents.value = documents.value.filter((item) => item.id !== id);
}

onServerEvent('document:progress', (progress) => {
  documents.value = documents.value.map((document) =>
    document.id === progress.documentId
      ? {
          ...document,
          status: progress.status,
          progress: progress.progress,
          chunkCount: progress.chunkCount ?? document.chunkCount,
          error: progress.error ?? (progress.status === 'failed' ? document.error : null),
        }
      : document,
  );
});

export function statusText(document: DocumentInfo): string {
  switch (document.status) {
    case 'queued':
      return 'Queued';
    case 'processing':
      return `Processing ${Math.round(document.progress * 100)} %`;
    case 'ready':
      return `Ready · ${document.chunkCount} ${document.chunkCount === 1 ? 'chunk' : 'chunks'}`;
    case 'failed':
      return `Failed: ${document.error ?? 'the document could not be processed'}`;
  }
}
