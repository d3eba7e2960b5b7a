import { useState } from 'preact/hooks';
import { ApiError } from '../api/http.ts';
import { signIn, signUp } from '../api/session.ts';
import { location, navigate } from '../router.ts';

/** Sign in and sign up; after either, the page the visitor asked for opens. */
export function AuthScreen({ mode }: { mode: 'signin' | 'signup' }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signingUp = mode === 'signup';

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (signingUp) await signUp(email, password, name);
      else await signIn(email, password);
      const { path } = location.value;
      if (path === '/signin' || path === '/signup') navigate('/', { replace: true });
    } catch (caught) {
      setError(
        caught instanceof ApiError ? caught.describe() : 'The server could not be reached. Try again.',
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="auth">
      <form class="auth-card" onSubmit={submit} noValidate>
        <p class="brand">Parley</p>
        <h1>{signingUp ? 'Create your account' : 'Sign in'}</h1>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        {signingUp && (
          <label>
            Name (optional)
            <input
              type="text"
              name="name"
              autocomplete="name"
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </label>
        )}
        <label>
          Email
          <input
            type="email"
            name="email"
            autocomplete="email"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autocomplete={signingUp ? 'new-password' : 'current-password'}
            required
            minLength={signingUp ? 10 : undefined}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {signingUp && <p class="hint">At least 10 characters.</p>}
        <button type="submit" class="primary" disabled={busy}>
          {signingUp ? 'Create account' : 'Sign in'}
        </button>
        <p class="switch">
          {signingUp ? (
            <a href="/signin">Sign in instead</a>
          ) : (
            <>
              New here? <a href="/signup">Create an account</a>
            </>
          )}
        </p>
      </form>
    </main>
  );
}
