import { describe, expect, it, vi } from 'vitest';
import { PREVIEW_CHARS } from '../../api/generated/limits';
import { api } from '../../api/http';
import type { Notification } from '../../api/types';
import { changesLoaded, notificationsLoaded } from '../../test/actions';
import { FakeWebSocket, alice, fakeServer, group, msg, setup, waitFor } from '../../test/fakes';
import { messageUpdated, readMarked } from '../chat/chatSlice';
import {
  CHANGE_MEMORY_MS,
  allNotificationsRead,
  notificationReceived,
  notificationsReducer,
  notificationsRead,
  notificationsResyncing,
  previewOf,
  selectMentionedIn,
  type NotificationsState,
} from './notificationsSlice';

const n = (id: string, seq: number, readAt: string | null = null, conversationId = 'c1'): Notification => ({
  id,
  kind: 'message',
  conversationId,
  seq,
  from: { id: 'u-bob', username: 'bob' },
  preview: `message ${seq}`,
  createdAt: new Date(Date.parse('2025-01-01T10:00:00Z') + seq * 1000).toISOString(),
  readAt,
  mentioned: false,
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

describe('the "@" of a conversation with a mention of me I have not read past', () => {
  const mention = (id: string, seq: number, conversationId = 'g1', readAt: string | null = null) => ({ ...n(id, seq, readAt, conversationId), mentioned: true });
  const page = (notifications: Notification[], unreadMentions: Notification[]) =>
    notificationsLoaded({ notifications, unreadCount: notifications.filter((x) => x.readAt === null).length, unreadMentions });
  /** Which conversations have their "@", my read marks in them as `readUpTo` says (none: unread). */
  const marked = (s: NotificationsState, readUpTo: Record<string, number> = {}) => {
    const conversations = Object.fromEntries(Object.entries(readUpTo).map(([id, seq]) => [id, group(id, 9, { myReadSeq: seq })]));
    return ['g1', 'g2', 'c1'].filter((c) => selectMentionedIn({ notifications: s, chat: { conversations } }, c));
  };

  it('a live mention marks its conversation; other notifications and read ones do not', () => {
    const s = reduce(notificationReceived(n('a', 1, null, 'c1')), notificationReceived(mention('m', 2)), notificationReceived(mention('r', 3, 'g2', 't')));
    expect(marked(s)).toEqual(['g1']);
  });

  it('reading the conversation past the mention clears it, and only there', () => {
    const base = [notificationReceived(mention('m1', 2)), notificationReceived(mention('m2', 5)), notificationReceived(mention('x', 1, 'g2'))];
    expect(marked(reduce(...base, readMarked({ conversationId: 'g1', seq: 4 })))).toEqual(['g1', 'g2']);
    expect(marked(reduce(...base, readMarked({ conversationId: 'g1', seq: 5 })))).toEqual(['g2']);
  });

  it('dismissed in the bell (here or in another tab): the bell is cleared, the "@" stays until the conversation is read', () => {
    const base = [notificationReceived(mention('m', 2)), notificationReceived(mention('x', 1, 'g2'))];
    const one = reduce(...base, notificationsRead({ ids: ['m'], at: 't' }));
    expect([one.unreadCount, marked(one)]).toEqual([1, ['g1', 'g2']]);
    const all = reduce(...base, allNotificationsRead({ at: 't' }));
    expect([all.unreadCount, marked(all)]).toEqual([0, ['g1', 'g2']]);
    expect(marked(reduce(...base, allNotificationsRead({ at: 't' }), readMarked({ conversationId: 'g1', seq: 2 })))).toEqual(['g2']);
  });

  it('read past it elsewhere (my read mark moved: another tab, a message I sent): gone', () => {
    const s = reduce(notificationReceived(mention('m', 2)), notificationReceived(mention('x', 3, 'g2')));
    expect(marked(s, { g1: 1, g2: 2 })).toEqual(['g1', 'g2']);
    expect(marked(s, { g1: 2, g2: 2 })).toEqual(['g2']);
  });

  it('its message deleted: gone', () => {
    const base = [notificationReceived(mention('m', 2)), notificationReceived(mention('x', 1, 'g2'))];
    const deleted = msg('g1', 2, 'u-bob', { body: '', deletedAt: '2025-01-01T11:00:00Z' });
    expect(marked(reduce(...base, messageUpdated({ message: deleted, change: 1 })))).toEqual(['g2']);
  });

  it('after a reload the page says which: also a mention older than the page itself', () => {
    const newer = Array.from({ length: 50 }, (_, i) => n(`n${i}`, 100 - i, null, 'c1'));
    const s = reduce(page(newer, [mention('old', 1)]));
    expect(s.items.some((x) => x.id === 'old')).toBe(false);
    expect(marked(s)).toEqual(['g1']);
    // One dismissed before the reload too: its conversation is still not read.
    expect(marked(reduce(page([], [mention('dismissed', 1, 'g1', 't')])))).toEqual(['g1']);
  });

  it('a page fetched on reconnect forgets the mentions read meanwhile, and keeps one that arrived after it', () => {
    const s = reduce(
      notificationReceived(mention('read-elsewhere', 1)),
      notificationsResyncing(),
      notificationReceived(mention('just-now', 9, 'g2')),
      page([n('a', 3, null, 'c1')], []),
    );
    expect(marked(s)).toEqual(['g2']);
    // A server from before mentions: its page lists none, and nothing breaks.
    expect(marked(reduce(notificationsLoaded({ notifications: [], unreadCount: 0 } as never)))).toEqual([]);
  });
});

describe('notifications of changed messages', () => {
  const deleted = (seq: number, conversationId = 'c1') => msg(conversationId, seq, 'u-bob', { body: '', deletedAt: '2025-01-01T11:00:00Z' });

  it('a deleted message takes its notifications and their unread count with it', () => {
    const s = reduce(
      notificationReceived(n('a', 1)),
      notificationReceived(n('b', 2, 't')),
      notificationReceived(n('c', 3)),
      notificationReceived(n('x', 2, null, 'c2')),
      messageUpdated({ message: deleted(1), change: 1 }),
      messageUpdated({ message: deleted(2), change: 2 }),
    );
    expect(s.items.map((x) => x.id)).toEqual(['x', 'c']);
    expect(s.unreadCount).toBe(2);
  });

  it('a deletion after its read mark (the server announces both) counts nothing twice', () => {
    const s = reduce(
      notificationReceived(n('a', 1)),
      notificationReceived(n('b', 2)),
      notificationsRead({ ids: ['a'], at: 't' }),
      messageUpdated({ message: deleted(1), change: 1 }),
    );
    expect(s.items.map((x) => x.id)).toEqual(['b']);
    expect(s.unreadCount).toBe(1);
  });

  it('an edit replaces the preview, cut as the server cuts it', () => {
    const long = '😀'.repeat(PREVIEW_CHARS + 10);
    const s = reduce(
      notificationReceived(n('a', 1)),
      notificationReceived(n('b', 2)),
      messageUpdated({ message: msg('c1', 1, 'u-bob', { body: 'fixed', editedAt: 't' }), change: 1 }),
      messageUpdated({ message: msg('c1', 2, 'u-bob', { body: long, editedAt: 't' }), change: 2 }),
    );
    expect(s.items.find((x) => x.id === 'a')!.preview).toBe('fixed');
    expect(s.items.find((x) => x.id === 'b')!.preview).toBe('😀'.repeat(PREVIEW_CHARS));
    expect(s.unreadCount).toBe(2);
    expect(previewOf('short')).toBe('short');
  });

  it('a page (or frame) that left the server before the change does not bring the old text back', () => {
    const s = reduce(
      notificationReceived(n('b', 2)),
      messageUpdated({ message: deleted(1), change: 1 }),
      messageUpdated({ message: msg('c1', 2, 'u-bob', { body: 'edited', editedAt: 't' }), change: 2 }),
      notificationsLoaded({ notifications: [n('b', 2), n('a', 1)], unreadCount: 2, unreadMentions: [] }),
      notificationReceived(n('a', 1)),
    );
    expect(s.items.map((x) => [x.id, x.preview])).toEqual([['b', 'edited']]);
    expect(s.unreadCount).toBe(1);
  });

  it('a change corrects pages for a while, not for ever, and not past a reconnect', () => {
    vi.useFakeTimers();
    const edited = (body: string) => messageUpdated({ message: msg('c1', 1, 'u-bob', { body, editedAt: 't' }), change: 1 });
    const page = (preview: string) => notificationsLoaded({ notifications: [{ ...n('a', 1), preview }], unreadCount: 1, unreadMentions: [] });
    let s = reduce(notificationReceived(n('a', 1)), edited('v1'));
    const next = (...actions: { type: string }[]) => actions.reduce((st, a) => notificationsReducer(st, a as never), s);
    // Away for a while: the server's page (v2, an edit we missed) is newer than what we heard.
    vi.advanceTimersByTime(CHANGE_MEMORY_MS + 1);
    s = next(page('v2'));
    expect(s.items[0]?.preview).toBe('v2');
    expect(Object.keys(s.changed)).toEqual([]);
    // Back after a short break: the page fetched on reconnect wins over what was heard before it.
    s = next(edited('v3'), notificationsResyncing(), page('v4'));
    expect(s.items[0]?.preview).toBe('v4');
    vi.useRealTimers();
  });

  it('changes caught up after being away apply too', () => {
    const s = reduce(
      notificationReceived(n('a', 1)),
      notificationReceived(n('b', 2)),
      changesLoaded({ conversationId: 'c1', since: 0 }, { messages: [deleted(1), msg('c1', 2, 'u-bob', { body: 'new' })], lastChange: 2, hasMore: false }),
    );
    expect(s.items.map((x) => [x.id, x.preview])).toEqual([['b', 'new']]);
    expect(s.unreadCount).toBe(1);
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

describe('notifications and the chat socket', () => {
  it('a message.updated frame on /ws/chat clears a deleted message from the bell', async () => {
    fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: alice }),
      'GET /api/conversations': () => ({ conversations: [] }),
      'GET /api/notifications': () => ({ notifications: [n('a', 1), n('b', 2)], unreadCount: 2 }),
    });
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    FakeWebSocket.last('/ws/notifications').open();
    await waitFor(() => store.getState().notifications.loaded, 'first page');

    const chat = FakeWebSocket.last('/ws/chat');
    chat.open();
    chat.receive({ type: 'message.updated', message: msg('c1', 2, 'u-bob', { body: '', deletedAt: '2025-01-01T11:00:00Z' }), change: 1 });
    chat.receive({ type: 'message.updated', message: msg('c1', 1, 'u-bob', { body: 'edited', editedAt: '2025-01-01T11:00:00Z' }), change: 2 });
    const { items, unreadCount } = store.getState().notifications;
    expect(items.map((x) => [x.id, x.preview])).toEqual([['a', 'edited']]);
    expect(unreadCount).toBe(1);
  });

  /** Alice signed in, the group g1 read up to 1 of 2, and an unread notification of 2 that mentions her: both sockets open. */
  async function mentionedInGroup() {
    const mention = { ...n('m', 2, null, 'g1'), mentioned: true };
    fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: alice }),
      'GET /api/conversations': () => ({ conversations: [group('g1', 2, { myReadSeq: 1, unread: 1 })] }),
      'GET /api/notifications': () => ({ notifications: [mention], unreadCount: 1, unreadMentions: [mention] }),
    });
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    const chat = FakeWebSocket.last('/ws/chat');
    chat.open();
    const notes = FakeWebSocket.last('/ws/notifications');
    notes.open();
    await waitFor(() => store.getState().notifications.loaded, 'first page');
    await waitFor(() => store.getState().chat.conversations['g1'] !== undefined, 'the group listed');
    return { store, chat, notes };
  }

  it('an edit that takes my name out of a group message clears its "@"; written back in, it returns', async () => {
    const { store, chat } = await mentionedInGroup();
    const marked = () => [selectMentionedIn(store.getState(), 'g1'), store.getState().notifications.items[0]?.mentioned];
    expect(marked()).toEqual([true, true]);

    const edited = (body: string, change: number) => ({ type: 'message.updated', message: msg('g1', 2, 'u-bob', { body, editedAt: '2025-01-01T11:00:00Z' }), change });
    chat.receive(edited('never mind, @carol has it', 1));
    expect(marked()).toEqual([false, false]);
    expect(store.getState().notifications.unreadCount).toBe(1);
    chat.receive(edited('@Alice after all', 2));
    expect(marked()).toEqual([true, true]);
  });

  it('"Dismiss all" (its read frame) clears the bell and keeps the "@"; my receipt from reading the group in another tab ends it', async () => {
    const { store, chat, notes } = await mentionedInGroup();
    const shown = () => [store.getState().notifications.unreadCount, selectMentionedIn(store.getState(), 'g1')];
    expect(shown()).toEqual([1, true]);

    notes.receive({ type: 'notifications.read', ids: ['m'] });
    expect(shown()).toEqual([0, true]);
    chat.receive({ type: 'receipt', conversationId: 'g1', userId: alice.id, deliveredSeq: 2, readSeq: 2 });
    expect(shown()).toEqual([0, false]);
  });
});
