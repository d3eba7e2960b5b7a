import type { Message } from '../api/types.ts';

/** A question as typed (plain text: the user's own words are not rendered as Markdown). */
export function UserMessage({ message }: { message: Message }) {
  return (
    <article
      class={`message user${message.id.startsWith('local-') ? ' sending' : ''}`}
      aria-label="You"
      data-message-id={message.id}
      tabIndex={-1}
    >
      <div class="message-body">{message.content}</div>
    </article>
  );
}
