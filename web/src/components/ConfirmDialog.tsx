import type { ComponentChildren } from 'preact';
import { Modal } from './Modal.tsx';

/** "Are you sure?" before something that cannot be undone; the action's button says "Delete". */
export function ConfirmDialog({
  title,
  children,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ComponentChildren;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Modal label={title} onClose={onCancel}>
      <h2>{title}</h2>
      {children}
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          Delete
        </button>
      </div>
    </Modal>
  );
}
