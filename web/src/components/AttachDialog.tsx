import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { documents, documentsLoaded, loadDocuments } from '../state/documents.ts';
import { Modal } from './Modal.tsx';

/** Picks which ready documents a conversation answers from. */
export function AttachDialog({
  attached,
  onDone,
  onCancel,
}: {
  attached: string[];
  onDone: (ids: string[]) => void;
  onCancel: () => void;
}) {
  const chosen = useSignal(new Set(attached));
  useEffect(() => {
    void loadDocuments().catch(() => undefined);
  }, []);
  const ready = documents.value.filter((document) => document.status === 'ready');

  function toggle(id: string, on: boolean) {
    const next = new Set(chosen.value);
    if (on) next.add(id);
    else next.delete(id);
    chosen.value = next;
  }

  return (
    <Modal label="Attach documents" onClose={onCancel}>
      <h2>Attach documents</h2>
      {documentsLoaded.value && ready.length === 0 && (
        <p class="muted">
          No ready documents yet. <a href="/documents">Upload one</a>.
        </p>
      )}
      <ul class="checklist">
        {ready.map((document) => (
          <li key={document.id}>
            <label>
              <input
                type="checkbox"
                checked={chosen.value.has(document.id)}
                onChange={(event) => toggle(document.id, event.currentTarget.checked)}
              />
              {document.filename}
            </label>
          </li>
        ))}
      </ul>
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="primary" onClick={() => onDone([...chosen.value])}>
          Done
        </button>
      </div>
    </Modal>
  );
}
