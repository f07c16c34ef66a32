// A very small router: the URL path is the source of truth, history.pushState changes it.
import { useSyncExternalStore } from 'react';

export type Route =
  | { name: 'home' }
  | { name: 'conversation'; id: string }
  | { name: 'signin' }
  | { name: 'signup' }
  | { name: 'admin' }
  | { name: 'resetPassword' };

export function parseRoute(path: string): Route {
  if (path === '/signin') return { name: 'signin' };
  if (path === '/signup') return { name: 'signup' };
  if (path === '/admin') return { name: 'admin' };
  if (path === '/reset-password') return { name: 'resetPassword' };
  const m = /^\/c\/([^/]+)$/.exec(path);
  if (m?.[1]) return { name: 'conversation', id: decodeURIComponent(m[1]) };
  return { name: 'home' };
}

const listeners = new Set<() => void>();

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  window.addEventListener('popstate', fn);
  return () => {
    listeners.delete(fn);
    window.removeEventListener('popstate', fn);
  };
}

export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (location.pathname === path) return;
  if (opts.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const fn of listeners) fn();
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

export function useRoute(): Route {
  return parseRoute(usePath());
}
