import { useEffect } from 'preact/hooks';
import { navigate } from '../router.ts';
import { conversationQuery, conversations, conversationsLoaded } from '../state/conversations.ts';
import { ConversationView } from './ConversationView.tsx';

/** `/`: the latest conversation, or a fresh one when there is none yet. */
export function Home() {
  const latest = conversationQuery.value ? null : conversations.value[0];
  useEffect(() => {
    if (latest) navigate(`/c/${latest.id}`, { replace: true });
  }, [latest?.id]);
  if (!conversationsLoaded.value || latest) return <main class="conversation" aria-busy="true" />;
  return <ConversationView id={null} jumpTo={null} />;
}
