import { useSignal } from '@preact/signals';
import { useRef } from 'preact/hooks';
import { MAX_MESSAGE_CHARS } from '../../../src/validation/messageLimit.ts';

/** From this many characters on, the composer shows how many of the limit are used. */
const COUNT_FROM = Math.floor(MAX_MESSAGE_CHARS * 0.9);
const formatCount = (count: number) => count.toLocaleString('en');

/**
 * The message box: Enter sends, Shift+Enter adds a line, Esc stops the answer being written.
 * Near the server's content limit it counts characters (as the server does: after trimming), and
 * above it sending is disabled with a message saying by how much, so an over-long message is
 * never sent.
 */
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
  const length = text.value.trim().length;
  const tooLong = length > MAX_MESSAGE_CHARS;
  const counted = length >= COUNT_FROM;

  async function submit() {
    const content = text.value.trim();
    if (!content || sending.value || content.length > MAX_MESSAGE_CHARS) return;
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
    <>
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
          aria-invalid={tooLong}
          aria-describedby={counted ? 'composer-count' : undefined}
        />
        <button type="submit" class="primary" disabled={sending.value || tooLong}>
          Send
        </button>
      </form>
      <p id="composer-count" class={tooLong ? 'composer-count error' : 'composer-count'} aria-live="polite">
        {counted &&
          (tooLong
            ? `${formatCount(length)} / ${formatCount(MAX_MESSAGE_CHARS)} characters: ${formatCount(length - MAX_MESSAGE_CHARS)} over the limit. Shorten the message to send it.`
            : `${formatCount(length)} / ${formatCount(MAX_MESSAGE_CHARS)} characters`)}
      </p>
    </>
  );
}
