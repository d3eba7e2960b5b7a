import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../api/http.ts';

/** The page the verification mail links to: confirms the address in words, not JSON. */
export function VerifyEmail({ token }: { token: string }) {
  const [state, setState] = useState<{ done: boolean; error: string | null }>({ done: false, error: null });

  useEffect(() => {
    if (!token) {
      setState({
        done: true,
        error: 'This link has no verification token. Open the link from the email again.',
      });
      return;
    }
    api('GET', `/api/v1/auth/verify?token=${encodeURIComponent(token)}`, { anonymous: true })
      .then(() => setState({ done: true, error: null }))
      .catch((error: unknown) =>
        setState({
          done: true,
          error: error instanceof ApiError ? error.message : 'The server could not be reached. Try again.',
        }),
      );
  }, [token]);

  return (
    <main class="auth">
      <div class="auth-card">
        <p class="brand">Parley</p>
        {!state.done && <p aria-busy="true">Checking your link…</p>}
        {state.done && !state.error && (
          <>
            <h1>Email address verified</h1>
            <p>Thanks — your address is confirmed.</p>
          </>
        )}
        {state.done && state.error && (
          <>
            <h1>Verification failed</h1>
            <p role="alert" class="error">
              {state.error}
            </p>
          </>
        )}
        <p class="switch">
          <a href="/">Open Parley</a>
        </p>
      </div>
    </main>
  );
}
