import { configureStore } from '@reduxjs/toolkit';
import { describe, expect, it } from 'vitest';
import type { Notification, User } from '../../api/types';
import { changesLoaded, conversationsLoaded } from '../../test/actions';
import { chatReducer, messageUpdated } from '../chat/chatSlice';
import { notificationReceived, notificationsReducer } from '../notifications/notificationsSlice';
import { api } from '../../api/http';
import { makeStore } from '../../app/store';
import { FakeClock, fakeServer, group, msg, testDeps, waitFor } from '../../test/fakes';
import { sessionReducer, type SessionState } from '../session/sessionSlice';
import type { BrowserNotificationsDeps } from './browserNotifications';
import type { ShowDeps } from './browserDeps';
import { createBrowserNotificationsMiddleware } from './middleware';

const me = { id: 'u-me', username: 'me', email: 'me@example.org', role: 'member' } as User;

/** The browser's side, recording what is shown and withdrawn; `showing`: the notifications on screen already. */
function fakeDeps({ hidden, on, showing = [] }: { hidden: boolean; on: boolean; showing?: { conversationId: string; seq: number }[] }) {
  const shown: { title: string; options: NotificationOptions }[] = [];
  const withdrawn: { tag: string; seq: number }[] = [];
  const deps: BrowserNotificationsDeps & ShowDeps = {
    notification: { permission: 'granted', requestPermission: async () => 'granted' },
    pushManager: async () => null,
    server: { key: async () => '', subscribe: async () => {}, unsubscribe: async () => {} },
    storage: { getItem: () => (on ? me.id : null), setItem: () => {}, removeItem: () => {} },
    isHidden: () => hidden,
    show: async (title, options) => void shown.push({ title, options }),
    withdraw: async (tag, seq) => void withdrawn.push({ tag, seq }),
    shown: async () => showing,
  };
  return { deps, shown, withdrawn };
}

function setup(options: { hidden: boolean; on: boolean }) {
  const { deps, shown, withdrawn } = fakeDeps(options);
  const session: SessionState = { status: 'signedIn', user: me, ended: null };
  const store = configureStore({
    reducer: { session: sessionReducer, notifications: notificationsReducer, chat: chatReducer },
    preloadedState: { session },
    middleware: (getDefault) => getDefault().concat(createBrowserNotificationsMiddleware(() => deps)),
  });
  return { store, shown, withdrawn };
}

const note: Notification = {
  id: 'n-1',
  kind: 'message',
  conversationId: 'c-1',
  seq: 3,
  from: { id: 'u-2', username: 'bob' },
  preview: 'are you there?',
  createdAt: '2026-01-01T00:00:00Z',
  readAt: null,
  mentioned: false,
} as Notification;

describe('notifications while the tab is hidden', () => {
  it('a hidden tab shows each new notification through the browser', async () => {
    const { store, shown } = setup({ hidden: true, on: true });
    store.dispatch(notificationReceived(note));
    await Promise.resolve();
    expect(shown).toEqual([
      {
        title: 'bob',
        options: expect.objectContaining({ body: 'are you there?', tag: 'conversation-c-1', data: { conversationId: 'c-1', seq: 3 } }),
      },
    ]);
  });

  it('a mention says so and names its group', async () => {
    const { store, shown } = setup({ hidden: true, on: true });
    store.dispatch(conversationsLoaded([group('c-1', 3, { title: 'Team' })]));
    store.dispatch(notificationReceived({ ...note, mentioned: true }));
    store.dispatch(notificationReceived({ ...note, id: 'n-2', seq: 4 }));
    await Promise.resolve();
    expect(shown.map((n) => n.title)).toEqual(['bob mentioned you in Team', 'bob in Team']);
  });

  it('shows the text of a formatted message without its markers', async () => {
    const { store, shown } = setup({ hidden: true, on: true });
    store.dispatch(notificationReceived({ ...note, preview: '**lunch** at _noon_?' }));
    await Promise.resolve();
    expect(shown[0]?.options.body).toBe('lunch at noon?');
  });

  it('a visible tab, or notifications turned off, shows none', async () => {
    for (const options of [
      { hidden: false, on: true },
      { hidden: true, on: false },
    ]) {
      const { store, shown } = setup(options);
      store.dispatch(notificationReceived(note));
      await Promise.resolve();
      expect(shown).toEqual([]);
    }
  });

  it('the notification of a deleted message is withdrawn, whether the deletion is live or caught up', async () => {
    const { store, withdrawn } = setup({ hidden: false, on: true });
    const deleted = { ...msg('c-1', 3), body: '', deletedAt: '2026-01-01T00:01:00Z' };
    store.dispatch(messageUpdated({ message: { ...msg('c-1', 2), body: 'edited', editedAt: '2026-01-01T00:01:00Z' }, change: 1 }));
    store.dispatch(messageUpdated({ message: deleted, change: 2 }));
    // A deletion learned from the changes caught up after a break.
    store.dispatch(changesLoaded({ conversationId: 'c-2', since: 0 }, { messages: [{ ...deleted, conversationId: 'c-2', seq: 7 }], lastChange: 5, hasMore: false }));
    await Promise.resolve();
    expect(withdrawn).toEqual([
      { tag: 'conversation-c-1', seq: 3 },
      { tag: 'conversation-c-2', seq: 7 },
    ]);
  });

  it('at sign-in, a notification shown while no tab was open goes if its message was deleted meanwhile', async () => {
    fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: me }),
      'GET /api/conversations': () => ({ conversations: [] }),
      'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
      'GET /api/conversations/c-1/messages': (url) => {
        const seq = Number(url.searchParams.get('after')) + 1;
        const deleted = seq === 3 ? { body: '', deletedAt: '2026-01-01T00:01:00Z' } : {};
        return { messages: [msg('c-1', seq, 'u-2', deleted)], hasMore: true };
      },
    });
    const { deps, withdrawn } = fakeDeps({
      hidden: false,
      on: true,
      showing: [
        { conversationId: 'c-1', seq: 3 },
        { conversationId: 'c-1', seq: 4 },
      ],
    });
    const store = makeStore(testDeps(new FakeClock()), () => deps);
    await store.dispatch(api.endpoints.currentUser.initiate());
    await waitFor(() => withdrawn.length > 0, 'the withdrawal');
    await new Promise((r) => setTimeout(r, 20));
    expect(withdrawn).toEqual([{ tag: 'conversation-c-1', seq: 3 }]);
  });
});
