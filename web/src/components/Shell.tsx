import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { isAdmin, signOut } from '../api/session.ts';
import { location, navigate, type Route } from '../router.ts';
import { AdminView } from './AdminView.tsx';
import { ConversationView } from './ConversationView.tsx';
import { DocumentsView } from './DocumentsView.tsx';
import { HistorySearch } from './HistorySearch.tsx';
import { Home } from './Home.tsx';
import { Sidebar } from './Sidebar.tsx';

/** The signed-in layout: sidebar of conversations, header, and the routed view. */
export function Shell({ route }: { route: Route }) {
  const sidebarOpen = useSignal(false);

  // Esc closes the sidebar on a phone (it covers the page there).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') sidebarOpen.value = false;
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  // On a phone the sidebar closes once a link in it has been followed.
  useEffect(() => {
    sidebarOpen.value = false;
  }, [location.value.path]);

  return (
    <div class={`shell${sidebarOpen.value ? ' sidebar-open' : ''}`}>
      <header class="topbar">
        <button
          type="button"
          class="sidebar-toggle"
          aria-expanded={sidebarOpen.value}
          aria-controls="sidebar"
          onClick={() => {
            sidebarOpen.value = !sidebarOpen.value;
          }}
        >
          Conversations
        </button>
        <a class="brand" href="/">
          Parley
        </a>
        <HistorySearch />
        <nav class="topnav" aria-label="Main">
          <a href="/documents" aria-current={route.name === 'documents' ? 'page' : undefined}>
            Documents
          </a>
          {isAdmin.value && (
            <a href="/admin" aria-current={route.name === 'admin' ? 'page' : undefined}>
              Admin
            </a>
          )}
          <button
            type="button"
            class="link-button"
            onClick={() => void signOut().finally(() => navigate('/signin', { replace: true }))}
          >
            Sign out
          </button>
        </nav>
      </header>
      <Sidebar activeId={route.name === 'conversation' ? route.id : null} />
      {sidebarOpen.value && (
        // Phone width: a tap beside the open sidebar closes it.
        <button
          type="button"
          class="sidebar-backdrop"
          aria-label="Close conversations"
          tabIndex={-1}
          onClick={() => {
            sidebarOpen.value = false;
          }}
        />
      )}
      <div class="content">{view(route)}</div>
    </div>
  );
}

function view(route: Route) {
  switch (route.name) {
    case 'conversation':
      return <ConversationView key={route.id} id={route.id} jumpTo={route.messageId} />;
    case 'documents':
      return <DocumentsView />;
    case 'admin':
      return isAdmin.value ? <AdminView /> : <NotFound />;
    case 'home':
      return <Home />;
    default:
      return <NotFound />;
  }
}

function NotFound() {
  return (
    <main class="page">
      <h1>Page not found</h1>
      <p>
        <a href="/">Back to your conversations</a>
      </p>
    </main>
  );
}
