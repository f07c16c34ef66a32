import { describe, expect, it } from 'vitest';
import { api } from '../../api/http';
import type { Notification } from '../../api/types';
import { FakeWebSocket, alice, fakeServer, setup, waitFor } from '../../test/fakes';
import { readMarked } from '../chat/chatSlice';
import { allNotificationsRead, notificationReceived, notificationsReducer, notificationsRead, type NotificationsState } from './notificationsSlice';

const n = (id: string, seq: number, readAt: string | null = null, conversationId = 'c1'): Notification => ({
  id,
  kind: 'message',
  conversationId,
  seq,
  from: { id: 'u-bob', username: 'bob' },
  preview: `message ${seq}`,
  createdAt: new Date(Date.parse('2025-01-01T10:00:00Z') + seq * 1000).toISOString(),
  readAt,
});

const reduce = (...actions: { type: string }[]): NotificationsState =>
  actions.reduce((s, a) => notificationsReducer(s, a as never), notificationsReducer(undefined, { type: 'init' }));

describe('notifications slice', () => {
  it('counts new unread notifications once each', () => {
    const s = reduce(notificationReceived(n('a', 1)), notificationReceived(n('a', 1)), notificationReceived(n('b', 2)));
    expect(s.unreadCount).toBe(2);
    expect(s.items.map((x) => x.id)).toEqual(['b', 'a']);
  });

  it('read marks (from any tab) clear only what was unread', () => {
    const s = reduce(
      notificationReceived(n('a', 1)),
      notificationReceived(n('b', 2)),
      notificationsRead({ ids: ['a'], at: 't' }),
      notificationsRead({ ids: ['a'], at: 't' }),
    );
    expect(s.unreadCount).toBe(1);
    expect(reduce(notificationReceived(n('a', 1)), allNotificationsRead({ at: 't' })).unreadCount).toBe(0);
  });

  it('reading a conversation up to seq reads its notifications up to seq', () => {
    const s = reduce(
      notificationReceived(n('a', 1)),
      notificationReceived(n('b', 2)),
      notificationReceived(n('c', 3)),
      notificationReceived(n('x', 9, null, 'c2')),
      readMarked({ conversationId: 'c1', seq: 2 }),
    );
    expect(s.unreadCount).toBe(2);
    expect(s.items.filter((x) => x.readAt === null).map((x) => x.id)).toEqual(['x', 'c']);
  });
});

describe('notifications socket middleware', () => {
  it('feeds notifications, read marks and presence, and refreshes on reconnect', async () => {
    let unread = [n('old', 1)];
    const server = fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: alice }),
      'GET /api/conversations': () => ({ conversations: [] }),
      'GET /api/notifications': () => ({ notifications: unread, unreadCount: unread.filter((x) => !x.readAt).length }),
    });
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    const ws = FakeWebSocket.last('/ws/notifications');
    ws.open();
    await waitFor(() => store.getState().notifications.loaded, 'first page');
    expect(store.getState().notifications.unreadCount).toBe(1);

    ws.receive({ type: 'notification', notification: n('new', 2) });
    expect(store.getState().notifications.unreadCount).toBe(2);
    ws.receive({ type: 'notifications.read', ids: ['new', 'old'] });
    expect(store.getState().notifications.unreadCount).toBe(0);

    ws.receive({ type: 'presence', userId: 'u-bob', username: 'bob', online: true, lastSeenAt: null });
    expect(store.getState().users.presence['u-bob']).toEqual({ online: true, lastSeenAt: null });
    ws.receive({ type: 'something.new', x: 1 }); // unknown frames are ignored
    ws.receive('not json' as never);

    // Away and back: the list is fetched again.
    unread = [n('missed', 3)];
    const before = server.calls.filter((c) => c.path === '/api/notifications').length;
    ws.drop();
    store.dispatch({ type: 'sockets/reconnectRequested' });
    FakeWebSocket.last('/ws/notifications').open();
    await waitFor(() => server.calls.filter((c) => c.path === '/api/notifications').length > before, 'refetch');
    await waitFor(() => store.getState().notifications.unreadCount === 1, 'missed one counted');
  });
});
