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

export const getAccessToken = () => accessToken;

function accept(grant: SessionGrant) {
  accessToken = grant.accessToken;
  currentUser.value = grant.user;
  sessionState.value = 'signedIn';
}

function forget() {
  accessToken = null;
  currentUser.value = null;
  sessionState.value = 'signedOut';
}

/** One refresh at a time: concurrent 401s (HTTP and socket) share the same rotation. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= api<SessionGrant>('POST', '/api/v1/auth/refresh', { body: {}, anonymous: true })
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

export const restoreSession = () => refreshSession();

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
