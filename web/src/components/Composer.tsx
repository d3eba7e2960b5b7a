import { useSignal } from '@preact/signals';
import { useRef } from 'preact/hooks';

/** The message box: Enter sends, Shift+Enter adds a line, Esc stops the answer being written. */
export function Composer({
  onSend,
  onStop,
  busy,
}: {
  onSend: (content: string) => Promise<boolean>;
  onStop: () => void;
  busy: boolean;
}) {
  const text = useSignal('');
  const sending = useSignal(false);
  const area = useRef<HTMLTextAreaElement>(null);

  async function submit() {
    const content = text.value.trim();
    if (!content || sending.value) return;
    sending.value = true;
    try {
      if (await onSend(content)) text.value = '';
    } finally {
      sending.value = false;
      area.current?.focus();
    }
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void submit();
    } else if (event.key === 'Escape' && busy) {
      event.preventDefault();
      onStop();
    }
  }

  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <label class="visually-hidden" for="composer-input">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={area}
        rows={2}
        placeholder="Ask anything — Enter sends, Shift+Enter adds a line"
        value={text.value}
        onInput={(event) => {
          text.value = event.currentTarget.value;
        }}
        onKeyDown={onKeyDown}
      />
      <button type="submit" class="primary" disabled={sending.value}>
        Send
      </button>
    </form>
  );
}
