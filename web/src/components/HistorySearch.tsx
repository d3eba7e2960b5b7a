import { useSignal } from '@preact/signals';
import { useRef } from 'preact/hooks';
import { api } from '../api/http.ts';
import type { SearchHit } from '../api/types.ts';
import { displayTitle } from '../state/conversations.ts';

/** Search over the user's messages; each result opens the conversation at that message. */
export function HistorySearch() {
  const query = useSignal('');
  const hits = useSignal<SearchHit[] | null>(null);
  const generation = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  function onInput(value: string) {
    query.value = value;
    if (timer.current) clearTimeout(timer.current);
    if (!value.trim()) {
      hits.value = null;
      return;
    }
    timer.current = setTimeout(async () => {
      const mine = ++generation.current;
      try {
        const answer = await api<{ items: SearchHit[] }>(
          'GET',
          `/api/v1/search?q=${encodeURIComponent(value.trim())}&limit=10`,
        );
        if (mine === generation.current) hits.value = answer.items;
      } catch {
        if (mine === generation.current) hits.value = [];
      }
    }, 250);
  }

  function close() {
    hits.value = null;
  }

  return (
    <div
      class="history-search"
      onFocusOut={(event) => {
        // Leaving the search (not into its own results) closes the results.
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) close();
      }}
    >
      <input
        type="search"
        aria-label="Search messages"
        placeholder="Search messages"
        value={query.value}
        onInput={(event) => onInput(event.currentTarget.value)}
        onKeyDown={(event) => event.key === 'Escape' && close()}
      />
      {hits.value && (
        <ul class="search-results" aria-label="Search results">
          {hits.value.length === 0 && <li class="muted">No messages match.</li>}
          {hits.value.map((hit) => (
            <li key={hit.messageId}>
              <a href={`/c/${hit.conversationId}#message-${hit.messageId}`} onClick={close}>
                <span class="result-title">{displayTitle({ title: hit.conversationTitle })}</span>
                <span class="result-snippet">
                  {hit.role === 'user' ? 'You: ' : 'Assistant: '}
                  {hit.snippet}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
