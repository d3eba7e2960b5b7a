import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError } from '../api/http.ts';
import type { DocumentInfo } from '../api/types.ts';
import {
  deleteDocument,
  documents,
  documentsCursor,
  documentsLoaded,
  loadDocuments,
  loadMoreDocuments,
  statusText,
  uploadErrors,
  uploadFiles,
  uploadNotices,
} from '../state/documents.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';

/** Upload (picker or drop), live ingestion progress, failures in words, deletion. */
export function DocumentsView() {
  const dragging = useSignal(false);
  const uploading = useSignal(false);
  const error = useSignal<string | null>(null);
  const deleting = useSignal<DocumentInfo | null>(null);

  useEffect(() => {
    void loadDocuments().catch((caught: unknown) => {
      error.value = (caught as Error).message;
    });
  }, []);

  async function upload(files: File[]) {
    if (files.length === 0) return;
    uploading.value = true;
    try {
      await uploadFiles(files);
    } finally {
      uploading.value = false;
    }
  }

  async function remove(id: string) {
    error.value = null;
    try {
      await deleteDocument(id);
    } catch (caught) {
      error.value = caught instanceof ApiError ? caught.describe() : 'The document could not be deleted.';
    }
  }

  return (
    <main class="page documents">
      <h1>Documents</h1>
      <p class="muted">
        PDF, plain text or Markdown. Grounded conversations answer from the documents you attach.
      </p>
      <section
        class={`dropzone${dragging.value ? ' dragging' : ''}`}
        aria-label="Drop files here"
        onDragOver={(event) => {
          event.preventDefault();
          dragging.value = true;
        }}
        onDragLeave={() => {
          dragging.value = false;
        }}
        onDrop={(event) => {
          event.preventDefault();
          dragging.value = false;
          void upload([...(event.dataTransfer?.files ?? [])]);
        }}
      >
        <p>Drop files here, or</p>
        <label class="file-button">
          Upload document
          <input
            type="file"
            multiple
            accept=".pdf,.txt,.md,.markdown,application/pdf,text/plain,text/markdown"
            onChange={(event) => {
              const input = event.currentTarget;
              void upload([...(input.files ?? [])]).then(() => {
                input.value = '';
              });
            }}
          />
        </label>
        {uploading.value && <p aria-busy="true">Uploading…</p>}
      </section>
      <p role="status" class="notice">
        {uploadNotices.value.join(' ')}
      </p>
      {(uploadErrors.value.length > 0 || error.value) && (
        <div role="alert" class="error">
          {error.value && <p>{error.value}</p>}
          {uploadErrors.value.map((message) => (
            <p key={message}>{message}</p>
          ))}
        </div>
      )}
      {documentsLoaded.value && documents.value.length === 0 && <p class="muted">No documents yet.</p>}
      <ul class="document-list">
        {documents.value.map((document) => (
          <li key={document.id} data-document-id={document.id} data-status={document.status}>
            <span class="filename">{document.filename}</span>
            <span class={`doc-status ${document.status}`}>{statusText(document)}</span>
            {document.status === 'processing' && (
              <progress max={1} value={document.progress} aria-label={`${document.filename} progress`} />
            )}
            <button
              type="button"
              class="ghost"
              onClick={() => {
                deleting.value = document;
              }}
            >
              Delete {document.filename}
            </button>
          </li>
        ))}
      </ul>
      {deleting.value && (
        <ConfirmDialog
          title="Delete this document?"
          onCancel={() => {
            deleting.value = null;
          }}
          onConfirm={() => {
            const id = deleting.value!.id;
            deleting.value = null;
            void remove(id);
          }}
        >
          <p>“{deleting.value.filename}” and its passages will be removed; answers no longer cite it.</p>
        </ConfirmDialog>
      )}
      {documentsCursor.value && (
        <button type="button" class="secondary" onClick={() => void loadMoreDocuments()}>
          Load more
        </button>
      )}
    </main>
  );
}
