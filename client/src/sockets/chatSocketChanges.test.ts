// The chat socket with v2 frames: message updates and their catch-up, membership frames,
// resync, group typing, and the edit/delete/react intents.
import { beforeEach, describe, expect, it } from 'vitest';
import { groupsApi } from '../api/groups';
import { api } from '../api/http';
import type { Conversation, Message } from '../api/types';
import { alice, bob, carol, FakeWebSocket, fakeServer, group, msg, setup, waitFor } from '../test/fakes';
import { deleteRequested, editRequested, reactRequested, sendRequested } from './actions';
import { ACTION_ANSWER_MS, TYPING_SHOW_MS } from './chatSocket';

/** What the fake server holds: group g of alice (us), bob and carol, with a change counter. */
let messages: Message[];
let lastChange: number;
/** Messages in their current state, by the change that last touched them. */
let changed: { change: number; message: Message }[];
let server: ReturnType<typeof fakeServer>;
/** Whether alice is still a member of g (the list answers without it once she is not). */
let member: boolean;
/** While set, the list's answer (taken when asked) is held back until it resolves. */
let listHeld: Promise<void> | null;
const serverGroup = (): Conversation => {
  const last = messages[messages.length - 1] ?? null;
  return group('g', last?.seq ?? 0, { lastMessage: last, lastChange });
};

beforeEach(() => {
  messages = [1, 2, 3].map((s) => msg('g', s));
  lastChange = 2;
  changed = [];
  member = true;
  listHeld = null;
  server = fakeServer({
    'GET /api/auth/currentuser': () => ({ currentUser: alice }),
    'GET /api/conversations': async () => {
      const answer = { conversations: member ? [serverGroup()] : [] };
      await listHeld;
      return answer;
    },
    [`DELETE /api/conversations/g/members/${alice.id}`]: () => {
      member = false;
      return undefined;
    },
    'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
    'GET /api/conversations/g/messages': (url) => {
      const after = url.searchParams.get('after');
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const list = after === null ? messages : messages.filter((m) => m.seq > Number(after));
      return after === null
        ? { messages: list.slice(-limit), hasMore: list.length > limit }
        : { messages: list.slice(0, limit), hasMore: list.length > limit };
    },
    'GET /api/conversations/g/changes': (url) => {
      const since = Number(url.searchParams.get('since'));
      const limit = Number(url.searchParams.get('limit'));
      const page = changed.filter((c) => c.change > since).slice(0, limit);
      const upTo = page.at(-1)?.change ?? lastChange;
      return { messages: page.map((c) => c.message), lastChange: upTo, hasMore: changed.some((c) => c.change > upTo) };
    },
  });
});

/** The server changes message `seq`: a new change number, and the message in its new state. */
function change(seq: number, extra: Partial<Message>): { message: Message; change: number } {
  const at = messages.findIndex((m) => m.seq === seq);
  const message = { ...messages[at]!, ...extra };
  messages[at] = message;
  lastChange++;
  changed = changed.filter((c) => c.message.seq !== seq);
  changed.push({ change: lastChange, message });
  return { message, change: lastChange };
}

async function openGroup() {
  const t = setup();
  await t.store.dispatch(api.endpoints.currentUser.initiate());
  const chat = FakeWebSocket.last('/ws/chat');
  chat.open();
  await waitFor(() => t.store.getState().chat.conversationsLoaded, 'conversations');
  await t.store.dispatch(api.endpoints.messages.initiate({ conversationId: 'g' }, { subscribe: false }));
  return { ...t, chat };
}

const body = (store: Awaited<ReturnType<typeof openGroup>>['store'], seq: number) =>
  store.getState().chat.messages['g']!.items.find((m) => m.seq === seq);
const changeCalls = () => server.calls.filter((c) => c.path === '/api/conversations/g/changes').map((c) => c.search.get('since'));

describe('chat socket: message updates', () => {
  it('applies message.updated frames in order without asking the server', async () => {
    const { store, chat } = await openGroup();
    chat.receive({ type: 'message.updated', ...change(2, { body: 'fixed', editedAt: '2025-01-01T12:00:00Z' }) });
    chat.receive({ type: 'message.updated', ...change(3, { reactions: [{ emoji: '👍', userIds: [carol.id] }] }) });
    expect(body(store, 2)!.body).toBe('fixed');
    expect(body(store, 3)!.reactions).toEqual([{ emoji: '👍', userIds: [carol.id] }]);
    expect(store.getState().chat.appliedChange['g']).toBe(4);
    expect(changeCalls()).toEqual([]);
  });

  it('a skipped change number fetches what changed since the last one applied', async () => {
    const { store, chat } = await openGroup();
    change(1, { body: '', deletedAt: '2025-01-01T12:00:00Z' }); // this frame never arrives
    chat.receive({ type: 'message.updated', ...change(2, { body: 'fixed', editedAt: '2025-01-01T12:00:00Z' }) });
    await waitFor(() => store.getState().chat.appliedChange['g'] === 4, 'changes caught up');
    expect(changeCalls()).toEqual(['2']);
    expect(body(store, 1)).toMatchObject({ body: '', deletedAt: '2025-01-01T12:00:00Z' });
  });

  it('after a reconnect, catches up on changes page by page, as well as on messages by seq', async () => {
    messages = Array.from({ length: 150 }, (_, i) => msg('g', i + 1));
    const { store, chat } = await openGroup(); // the newest 50 are loaded
    chat.drop();
    for (let seq = 1; seq <= 150; seq++) change(seq, { body: `edit ${seq}`, editedAt: '2025-01-01T12:00:00Z' });
    messages.push(msg('g', 151, carol.id));
    store.dispatch({ type: 'sockets/reconnectRequested' });
    FakeWebSocket.last('/ws/chat').open();
    await waitFor(() => store.getState().chat.appliedChange['g'] === lastChange, 'changes caught up');
    expect(changeCalls()).toEqual(['2', '102']);
    expect([101, 150].map((s) => body(store, s)!.body)).toEqual(['edit 101', 'edit 150']);
    await waitFor(() => body(store, 151) !== undefined, 'new message');
  });

  it('a resync frame runs the same catch-up on the open socket', async () => {
    const { store, chat } = await openGroup();
    change(3, { body: 'changed while frames were lost', editedAt: '2025-01-01T12:00:00Z' });
    messages.push(msg('g', 4, bob.id));
    const before = FakeWebSocket.count('/ws/chat');
    chat.receive({ type: 'resync' });
    await waitFor(() => body(store, 4) !== undefined && body(store, 3)!.body === 'changed while frames were lost', 'resynced');
    expect(FakeWebSocket.count('/ws/chat')).toBe(before);
  });
});

describe('chat socket: membership, typing, intents', () => {
  it('conversation and removed frames add, change and drop conversations', async () => {
    const { store, chat } = await openGroup();
    chat.receive({ type: 'conversation', conversation: { ...serverGroup(), title: 'Renamed' } });
    expect(store.getState().chat.conversations['g']).toMatchObject({ title: 'Renamed' });
    chat.receive({ type: 'conversation', conversation: group('g2', 0, { title: 'New' }) });
    expect(store.getState().chat.conversations['g2']).toBeDefined();
    chat.receive({ type: 'removed', conversationId: 'g' });
    expect(store.getState().chat.conversations['g']).toBeUndefined();
    expect(store.getState().chat.messages['g']).toBeUndefined();
  });

  it('a removal by someone else is told; my own leaving is not', async () => {
    const { store, chat } = await openGroup();
    chat.receive({ type: 'removed', conversationId: 'g' });
    expect(store.getState().notices.items.map((n) => n.text)).toEqual(['You are no longer in Family.']);

    chat.receive({ type: 'conversation', conversation: group('g2', 0, { title: 'Book club' }) });
    const leaving = store.dispatch(groupsApi.endpoints.removeMember.initiate({ id: 'g2', userId: alice.id }));
    chat.receive({ type: 'removed', conversationId: 'g2' }); // before the answer to my own request
    await leaving;
    expect(store.getState().chat.conversations['g2']).toBeUndefined();
    expect(store.getState().chat.leaving).toEqual({});
    expect(store.getState().notices.items).toHaveLength(1);
  });

  it('a removal missed while away is told when catching up, as the frame tells it', async () => {
    const { store, chat } = await openGroup();
    chat.drop();
    member = false; // bob removed alice meanwhile; the `removed` frame never reached her
    store.dispatch({ type: 'sockets/reconnectRequested' });
    FakeWebSocket.last('/ws/chat').open();
    await waitFor(() => store.getState().chat.conversations['g'] === undefined, 'the group gone');
    expect(store.getState().notices.items.map((n) => n.text)).toEqual(['You are no longer in Family.']);
  });

  it('a group I left from this tab is not told when the list comes back without it', async () => {
    const { store, chat } = await openGroup();
    const lists = () => server.calls.filter((c) => c.path === '/api/conversations').length;
    const before = lists();
    member = false; // the list already answers without it
    const leaving = store.dispatch(groupsApi.endpoints.removeMember.initiate({ id: 'g', userId: alice.id }));
    // The list refreshed while the leave is on its way (say, after a reconnect).
    chat.receive({ type: 'resync' });
    await leaving;
    await waitFor(() => lists() > before, 'the list asked');
    await new Promise((r) => setTimeout(r, 20));
    expect(store.getState().chat.conversations['g']).toBeUndefined();
    expect(store.getState().notices.items).toEqual([]);
  });

  it('a list asked before I was added to a group and answered after it does not say I am no longer in it', async () => {
    const { store, chat } = await openGroup();
    const lists = () => server.calls.filter((c) => c.path === '/api/conversations').length;
    const before = lists();
    let answer!: () => void;
    listHeld = new Promise((r) => (answer = r));
    chat.receive({ type: 'resync' }); // the list is asked for: the server answers without g2
    await waitFor(() => lists() > before, 'the list asked');
    expect(api.endpoints.conversations.select()(store.getState()).status).toBe('pending');
    chat.receive({ type: 'conversation', conversation: group('g2', 0, { title: 'Book club' }) }); // added meanwhile
    answer();
    await waitFor(() => api.endpoints.conversations.select()(store.getState()).status === 'fulfilled', 'the answer applied');
    expect(store.getState().chat.conversations['g2']).toBeDefined();
    expect(store.getState().notices.items).toEqual([]);
  });

  it('being added to a group reports its history delivered (not read), once', async () => {
    const { chat } = await openGroup();
    const delivered = () => chat.sentOfType('delivered').filter((f) => f.conversationId === 'g3');
    const added = group('g3', 7, { myReadSeq: 0, unread: 7 });
    chat.receive({ type: 'conversation', conversation: added });
    expect(delivered()).toEqual([{ type: 'delivered', conversationId: 'g3', seq: 7 }]);
    expect(chat.sentOfType('read').filter((f) => f.conversationId === 'g3')).toEqual([]);
    // A later change of the same group (a rename) is not an arrival.
    chat.receive({ type: 'conversation', conversation: { ...added, title: 'Renamed' } });
    expect(delivered()).toHaveLength(1);
  });

  it('shows each typing member for a while, never myself', async () => {
    const { store, chat, clock } = await openGroup();
    chat.receive({ type: 'typing', conversationId: 'g', userId: bob.id });
    clock.advance(2000);
    chat.receive({ type: 'typing', conversationId: 'g', userId: carol.id });
    chat.receive({ type: 'typing', conversationId: 'g', userId: alice.id });
    expect(Object.keys(store.getState().typing.byConversation['g']!)).toEqual([bob.id, carol.id]);
    clock.advance(TYPING_SHOW_MS - 2000);
    expect(Object.keys(store.getState().typing.byConversation['g']!)).toEqual([carol.id]);
    chat.receive({ type: 'message', message: msg('g', 4, carol.id) });
    expect(store.getState().typing.byConversation['g']).toBeUndefined();
  });

  it('sends replies, edits, deletes and reactions as frames', async () => {
    const { store, chat } = await openGroup();
    store.dispatch(sendRequested({ conversationId: 'g', body: 'answer', replyToSeq: 2 }));
    store.dispatch(editRequested({ conversationId: 'g', seq: 3, body: 'better' }));
    store.dispatch(deleteRequested({ conversationId: 'g', seq: 3 }));
    store.dispatch(reactRequested({ conversationId: 'g', seq: 2, emoji: '🎉', on: true }));
    expect(chat.sentOfType('send')).toEqual([{ type: 'send', clientId: expect.any(String), conversationId: 'g', body: 'answer', replyToSeq: 2 }]);
    expect(chat.sentOfType('edit')).toEqual([{ type: 'edit', conversationId: 'g', seq: 3, body: 'better' }]);
    expect(chat.sentOfType('delete')).toEqual([{ type: 'delete', conversationId: 'g', seq: 3 }]);
    expect(chat.sentOfType('react')).toEqual([{ type: 'react', conversationId: 'g', seq: 2, emoji: '🎉', on: true }]);
  });

  it('a refused edit is told to the user; an error frame nobody asked for is not', async () => {
    const { store, chat, clock } = await openGroup();
    chat.receive({ type: 'error', code: 'not_found', message: 'not a member' });
    expect(store.getState().notices.items).toEqual([]);
    store.dispatch(editRequested({ conversationId: 'g', seq: 1, body: 'mine now' }));
    chat.receive({ type: 'error', code: 'forbidden', message: "that is someone else's message" });
    expect(store.getState().notices.items.map((n) => n.text)).toEqual(["That is someone else's message."]);
    clock.advance(ACTION_ANSWER_MS);
    chat.receive({ type: 'error', code: 'not_found', message: 'late' });
    expect(store.getState().notices.items).toHaveLength(1);
  });

  it('an edit while the socket is down is not lost silently', async () => {
    const { store, chat } = await openGroup();
    chat.drop();
    store.dispatch(reactRequested({ conversationId: 'g', seq: 2, emoji: '👍', on: true }));
    expect(store.getState().notices.items.map((n) => n.text)).toEqual(['You are offline. Try again when the connection is back.']);
  });

  it('a send refused because the peer blocks me fails with the server’s words', async () => {
    const { store, chat } = await openGroup();
    store.dispatch(sendRequested({ conversationId: 'g', body: 'hello?' }));
    const [p] = Object.values(store.getState().chat.pending);
    chat.receive({ type: 'accepted', clientId: p!.clientId });
    chat.receive({ type: 'error', code: 'forbidden', message: 'you cannot message this user', clientId: p!.clientId });
    expect(store.getState().chat.pending[p!.clientId]).toMatchObject({ status: 'failed', error: 'You cannot message this user.' });
  });
});
