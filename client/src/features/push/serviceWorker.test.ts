// The service worker itself (public/sw.js), run against a fake worker global.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

type Listener = (event: FakeEvent) => void;
interface FakeEvent {
  data?: { json(): unknown } | null;
  notification?: { data: unknown; close(): void };
  waitUntil(p: Promise<unknown>): void;
}

const source = readFileSync(new URL('../../../public/sw.js', import.meta.url), 'utf8');

function worker(windows: { url: string; focus(): Promise<void>; postMessage(m: unknown): void }[] = []) {
  const listeners = new Map<string, Listener>();
  const shown: { title: string; options: Record<string, unknown> }[] = [];
  const opened: string[] = [];
  const self = {
    location: { origin: 'https://chat.example.org' },
    addEventListener: (type: string, fn: Listener) => listeners.set(type, fn),
    skipWaiting: () => Promise.resolve(),
    registration: {
      showNotification: async (title: string, options: Record<string, unknown>) => void shown.push({ title, options }),
    },
    clients: {
      claim: () => Promise.resolve(),
      matchAll: async () => windows,
      openWindow: async (path: string) => void opened.push(path),
    },
  };
  new Function('self', source)(self);
  async function dispatch(type: string, event: Omit<FakeEvent, 'waitUntil'>) {
    const pending: Promise<unknown>[] = [];
    listeners.get(type)!({ ...event, waitUntil: (p) => pending.push(p) });
    await Promise.all(pending);
  }
  return { listeners, shown, opened, dispatch };
}

const message = {
  kind: 'message',
  conversationId: 'c-1',
  seq: 7,
  from: { id: 'u-1', username: 'alice' },
  preview: 'lunch?',
};

describe('the service worker', () => {
  it('shows a push as a notification from its sender, one per conversation', async () => {
    const sw = worker();
    await sw.dispatch('push', { data: { json: () => message } });
    expect(sw.shown).toEqual([
      {
        title: 'alice',
        options: expect.objectContaining({ body: 'lunch?', tag: 'conversation-c-1', data: { conversationId: 'c-1', seq: 7 } }),
      },
    ]);
  });

  it('a push from a group names it, and a mention says so', async () => {
    const sw = worker();
    await sw.dispatch('push', { data: { json: () => ({ ...message, mentioned: true, groupTitle: 'Team' }) } });
    await sw.dispatch('push', { data: { json: () => ({ ...message, mentioned: false, groupTitle: 'Team' }) } });
    await sw.dispatch('push', { data: { json: () => ({ ...message, mentioned: false, groupTitle: null }) } });
    expect(sw.shown.map((n) => n.title)).toEqual(['alice mentioned you in Team', 'alice in Team', 'alice']);
  });

  it('still shows something for a push it cannot read', async () => {
    const sw = worker();
    await sw.dispatch('push', { data: { json: () => JSON.parse('not json') } });
    await sw.dispatch('push', { data: null });
    expect(sw.shown.map((n) => n.title)).toEqual(['GoChat', 'GoChat']);
  });

  it('a click focuses an open window on that conversation, or opens one', async () => {
    const posted: unknown[] = [];
    let focused = 0;
    const open = { url: 'https://chat.example.org/', focus: async () => void focused++, postMessage: (m: unknown) => posted.push(m) };
    const other = { url: 'https://elsewhere.example/', focus: async () => {}, postMessage: () => {} };
    let closed = 0;
    const click = { notification: { data: { conversationId: 'c-1' }, close: () => void closed++ } };

    const withWindow = worker([other, open]);
    await withWindow.dispatch('notificationclick', click);
    expect({ closed, focused, posted }).toEqual({ closed: 1, focused: 1, posted: [{ type: 'gochat.open', path: '/c/c-1' }] });

    const without = worker([other]);
    await without.dispatch('notificationclick', click);
    expect(without.opened).toEqual(['/c/c-1']);
  });

  it('never answers requests: no fetch handler, so nothing is cached', () => {
    expect([...worker().listeners.keys()].sort()).toEqual(['activate', 'install', 'notificationclick', 'push']);
  });
});
