import { useSignal } from '@preact/signals';
import { useRef } from 'preact/hooks';
import { navigate } from '../router.ts';
import {
  conversations,
  conversationsCursor,
  conversationsLoaded,
  createConversation,
  displayTitle,
  loadMoreConversations,
  searchConversations,
} from '../state/conversations.ts';

/** Conversations: new chat, title search, the cursor-paged list. */
export function Sidebar({ activeId }: { activeId: string | null }) {
  const query = useSignal('');
  const busy = useSignal(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  function onSearch(value: string) {
    query.value = value;
    if (timer.current) clearTimeout(timer.current);
    // Wait for a pause in typing: one request per search, not per key.
    timer.current = setTimeout(() => void searchConversations(value).catch(() => undefined), 200);
  }

  async function newChat() {
    busy.value = true;
    try {
      const conversation = await createConversation();
      navigate(`/c/${conversation.id}`);
    } finally {
      busy.value = false;
    }
  }

  return (
    <nav id="sidebar" class="sidebar" aria-label="Conversations">
      <button type="button" class="primary new-chat" onClick={newChat} disabled={busy.value}>
        New chat
      </button>
      <input
        type="search"
        class="search"
        aria-label="Search conversations"
        placeholder="Search conversations"
        value={query.value}
        onInput={(event) => onSearch(event.currentTarget.value)}
      />
      <ul class="conversation-list">
        {conversations.value.map((conversation) => (
          <li key={conversation.id}>
            <a
              href={`/c/${conversation.id}`}
              aria-current={conversation.id === activeId ? 'page' : undefined}
            >
              {displayTitle(conversation)}
            </a>
          </li>
        ))}
      </ul>
      {conversationsLoaded.value && conversations.value.length === 0 && (
        <p class="muted">{query.value ? 'No conversation has that title.' : 'No conversations yet.'}</p>
      )}
      {conversationsCursor.value && (
        <button type="button" class="secondary" onClick={() => void loadMoreConversations()}>
          Load more
        </button>
      )}
    </nav>
  );
}
