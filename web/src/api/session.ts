import { computed, signal } from '@preact/signals';
import { api, useAuthHooks } from './http.ts';
import type { SessionGrant, User } from './types.ts';

/**
 * Who is signed in. The access token lives only in this module's memory; the refresh token is an
 * httpOnly cookie the page never sees, so a reload restores the session with one refresh call.
 */

export type SessionState = 'restoring' | 'signedOut' | 'signedIn';

export const sessionState = signal<SessionState>('restoring');
export const currentUser = signal<User | null>(null);
export const isAdmin = computed(() => currentUser.value?.role === 'admin');

let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;

/**
 * Whether this browser signed in before: not a secret (no token), only spares a first-time
 * visitor the refresh call that would fail with a 401 (which the browser logs as a console error).
 */
const HINT_KEY = 'parley.hasSession';
const hint = {
  get: () => {
    try {
      return localStorage.getItem(HINT_KEY) === '1';
    } catch {
      return true;
    }
  },
  set: (on: boolean) => {
    try {
      if (on) localStorage.setItem(HINT_KEY, '1');
      else localStorage.removeItem(HINT_KEY);
    } catch {
      // Storage disabled: every load simply tries the refresh.
    }
  },
};

export const getAccessToken = () => accessToken;

function accept(grant: SessionGrant) {
  accessToken = grant.accessToken;
  currentUser.value = grant.user;
  sessionState.value = 'signedIn';
  hint.set(true);
}

function forget() {
  accessToken = null;
  currentUser.value = null;
  sessionState.value = 'signedOut';
  hint.set(false);
}

const rotate = () => api<SessionGrant>('POST', '/api/v1/auth/refresh', { body: {}, anonymous: true });

/**
 * Refresh tokens are single-use: two tabs rotating the same cookie at once would look like a
 * stolen token and end the session. A Web Lock makes the tabs of this origin take turns, so the
 * second one sends the cookie the first one just received.
 */
const rotateInTurn = (): Promise<SessionGrant> =>
  'locks' in navigator ? navigator.locks.request('parley-refresh', rotate) : rotate();

/** One refresh at a time: concurrent 401s (HTTP and socket) share the same rotation. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= rotateInTurn()
    .then((grant) => {
      accept(grant);
      return true;
    })
    .catch(() => {
      forget();
      return false;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

useAuthHooks({ token: getAccessToken, refresh: refreshSession });

/** On page load: the cookie (if any) buys a fresh access token. */
export async function restoreSession(): Promise<boolean> {
  if (!hint.get()) {
    forget();
    return false;
  }
  return refreshSession();
}

export async function signIn(email: string, password: string) {
  accept(
    await api<SessionGrant>('POST', '/api/v1/auth/login', {
      body: { email, password, session: 'cookie' },
      anonymous: true,
    }),
  );
}

export async function signUp(email: string, password: string, name: string) {
  accept(
    await api<SessionGrant>('POST', '/api/v1/auth/signup', {
      body: { email, password, ...(name.trim() ? { name: name.trim() } : {}), session: 'cookie' },
      anonymous: true,
    }),
  );
}

export async function signOut() {
  try {
    await api('POST', '/api/v1/auth/logout', { body: {}, anonymous: true });
  } finally {
    forget();
  }
}
