import { signal } from '@preact/signals';

/** Client-side routes on the History API; the edge answers index.html for each of them. */

export interface Location {
  path: string;
  search: string;
  hash: string;
}

const read = (): Location => ({
  path: window.location.pathname,
  search: window.location.search,
  hash: window.location.hash,
});

export const location = signal<Location>(read());

window.addEventListener('popstate', () => {
  location.value = read();
});

export function navigate(to: string, options: { replace?: boolean } = {}) {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  location.value = read();
}

/** Plain left clicks on same-origin links stay in the page. */
export function onLinkClick(event: MouseEvent) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
    return;
  const anchor = (event.target as Element | null)?.closest('a');
  if (!anchor || anchor.target || anchor.hasAttribute('download') || anchor.dataset.external !== undefined)
    return;
  const url = new URL(anchor.href, window.location.href);
  if (url.origin !== window.location.origin) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

export type Route =
  | { name: 'home' }
  | { name: 'signin' }
  | { name: 'signup' }
  | { name: 'verify'; token: string }
  | { name: 'conversation'; id: string; messageId: string | null }
  | { name: 'documents' }
  | { name: 'admin' }
  | { name: 'notFound' };

export function matchRoute({ path, search, hash }: Location): Route {
  if (path === '/') return { name: 'home' };
  if (path === '/signin') return { name: 'signin' };
  if (path === '/signup') return { name: 'signup' };
  if (path === '/verify-email')
    return { name: 'verify', token: new URLSearchParams(search).get('token') ?? '' };
  if (path === '/documents') return { name: 'documents' };
  if (path === '/admin') return { name: 'admin' };
  const conversation = /^\/c\/([0-9a-f-]{36})$/i.exec(path);
  if (conversation) {
    const jump = /^#message-([0-9a-f-]{36})$/i.exec(hash);
    return { name: 'conversation', id: conversation[1]!, messageId: jump?.[1] ?? null };
  }
  return { name: 'notFound' };
}
