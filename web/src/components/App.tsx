import { useSignalEffect } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { restoreSession, sessionState } from '../api/session.ts';
import { warmUpRendering } from '../markdown/warmUp.ts';
import { closeSocket, openSocket } from '../realtime/socket.ts';
import { location, matchRoute, navigate } from '../router.ts';
import {
  conversations,
  conversationsLoaded,
  currentConversation,
  loadConversations,
} from '../state/conversations.ts';
import { documents, documentsLoaded, uploadErrors, uploadNotices } from '../state/documents.ts';
import { closeThread } from '../state/thread.ts';
import { AuthScreen } from './AuthScreen.tsx';
import { Shell } from './Shell.tsx';
import { VerifyEmail } from './VerifyEmail.tsx';

/** Nothing of the previous account stays on screen for the next one to sign in here. */
function forgetUserData() {
  conversations.value = [];
  conversationsLoaded.value = false;
  currentConversation.value = null;
  documents.value = [];
  documentsLoaded.value = false;
  uploadNotices.value = [];
  uploadErrors.value = [];
  closeThread();
}

/** Decides between the verification page, the sign-in screens and the signed-in shell. */
export function App() {
  useEffect(() => {
    void restoreSession();
  }, []);

  useSignalEffect(() => {
    if (sessionState.value === 'signedIn') {
      openSocket();
      warmUpRendering();
      void loadConversations().catch(() => undefined);
    } else if (sessionState.value === 'signedOut') {
      closeSocket();
      forgetUserData();
    }
  });

  const route = matchRoute(location.value);
  const state = sessionState.value;

  if (route.name === 'verify') return <VerifyEmail token={route.token} />;
  if (state === 'restoring') {
    return (
      <main class="splash" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  }
  if (state === 'signedOut') return <AuthScreen mode={route.name === 'signup' ? 'signup' : 'signin'} />;
  if (route.name === 'signin' || route.name === 'signup') {
    queueMicrotask(() => navigate('/', { replace: true }));
    return null;
  }
  return <Shell route={route} />;
}
