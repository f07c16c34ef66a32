import { beforeEach, describe, expect, it } from 'vitest';
import { api } from '../api/http';
import { MAX_BODY_CHARS } from '../api/generated/limits';
import type { Attachment, ChatClientFrame, Conversation, Message } from '../api/types';
import { browserOnlineChanged, selectBanner } from '../features/connection/connectionSlice';
import { sessionEnded } from '../features/session/sessionSlice';
import { makeSelectTimeline } from '../features/chat/selectors';
import { editRequested, readRequested, retryRequested, sendRequested, typingRequested } from './actions';
import { frameBytes, MAX_FRAME_BYTES, TOO_LONG_TEXT } from './chat/frameSize';
import { ACK_TIMEOUT_MS, TYPING_SHOW_MS } from './chatSocket';
import { selectPresenceLive } from '../features/users/presence';
import { alice, bob, conversation, FakeWebSocket, fakeServer, msg, setup, waitFor } from '../test/fakes';

/** What the fake server holds: conversation c1 between alice (us) and bob. */
let serverMessages: Message[];
let serverConversation: () => Conversation;
let server: ReturnType<typeof fakeServer>;

beforeEach(() => {
  serverMessages = [1, 2, 3].map((s) => msg('c1', s));
  serverConversation = () => {
    const last = serverMessages[serverMessages.length - 1] ?? null;
    return conversation('c1', last?.seq ?? 0, { lastMessage: last, myReadSeq: 0, unread: last?.seq ?? 0, peerDeliveredSeq: 0, peerReadSeq: 0 });
  };
  server = fakeServer({
    'GET /api/auth/currentuser': () => ({ currentUser: alice }),
    'GET /api/conversations': () => ({ conversations: [serverConversation()] }),
    'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
    'GET /api/conversations/c1/messages': (url) => {
      const after = url.searchParams.get('after');
      const before = url.searchParams.get('before');
      const limit = Number(url.searchParams.get('limit') ?? 50);
      let list = serverMessages;
      if (after !== null) {
        list = list.filter((m) => m.seq > Number(after));
        return { messages: list.slice(0, limit), hasMore: list.length > limit };
      }
      if (before !== null) list = list.filter((m) => m.seq < Number(before));
      return { messages: list.slice(-limit), hasMore: list.length > limit };
    },
  });
});

async function signedIn() {
  const t = setup();
  await t.store.dispatch(api.endpoints.currentUser.initiate());
  return t;
}

async function signedInWithOpenChat() {
  const t = await signedIn();
  const chat = FakeWebSocket.last('/ws/chat');
  chat.open();
  FakeWebSocket.last('/ws/notifications').open();
  await waitFor(() => t.store.getState().chat.conversationsLoaded, 'conversations');
  // Open conversation c1: its newest page is loaded.
  await t.store.dispatch(api.endpoints.messages.initiate({ conversationId: 'c1' }, { subscribe: false }));
  return { ...t, chat };
}

/** Uploads as the server names them (UUIDs). */
const files = (n: number): Attachment[] =>
  Array.from({ length: n }, (_, i) => ({ id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`, name: `${i}.png`, contentType: 'image/png', size: 1 }));

/** The most characters a body may have, in emoji (4 bytes each): with ten files, over the frame limit. */
const EMOJI_BODY = '😀'.repeat(MAX_BODY_CHARS);

/** What the server would do: a frame over the limit closes the socket (1009). */
const overLimit = (s: FakeWebSocket) => s.sent.filter((f) => frameBytes(f as ChatClientFrame) > MAX_FRAME_BYTES);

const seqs = (state: ReturnType<Awaited<ReturnType<typeof setup>>['store']['getState']>, id = 'c1') =>
  (state.chat.messages[id]?.items ?? []).map((m) => m.seq);

describe('chat socket middleware', () => {
  it('opens both sockets only once signed in', async () => {
    const { store } = setup();
    expect(FakeWebSocket.instances).toHaveLength(0);
    await store.dispatch(api.endpoints.currentUser.initiate());
    expect(FakeWebSocket.count('/ws/chat')).toBe(1);
    expect(FakeWebSocket.count('/ws/notifications')).toBe(1);
    expect(store.getState().connection.chat.status).toBe('connecting');
  });

  it('reconnects with exponential backoff and jitter, and starts over after a successful open', async () => {
    const { store, clock } = await signedIn();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      FakeWebSocket.last('/ws/chat').drop(); // the upgrade fails
      const state = store.getState().connection.chat;
      expect(state.status).toBe('waiting');
      delays.push(state.retryAt! - clock.now());
      const before = FakeWebSocket.count('/ws/chat');
      clock.advance(delays[i]! - 1);
      expect(FakeWebSocket.count('/ws/chat')).toBe(before); // not a millisecond early
      clock.advance(1);
      expect(FakeWebSocket.count('/ws/chat')).toBe(before + 1);
    }
    // random() = 0.5: half of the exponential step plus a quarter of it as jitter.
    expect(delays).toEqual([375, 750, 1500, 3000, 6000, 12000]);
    expect(selectBanner(store.getState()).kind).toBe('connecting');

    FakeWebSocket.last('/ws/chat').open();
    expect(store.getState().connection.chat).toMatchObject({ status: 'open', attempt: 0 });
    FakeWebSocket.last('/ws/chat').drop();
    expect(store.getState().connection.chat.retryAt! - clock.now()).toBe(375);
    expect(selectBanner(store.getState()).kind).toBe('waiting');
  });

  it('caps the backoff and spreads retries with jitter', async () => {
    const low = setup(undefined, () => 0);
    await low.store.dispatch(api.endpoints.currentUser.initiate());
    const d: number[] = [];
    for (let i = 0; i < 10; i++) {
      FakeWebSocket.last('/ws/chat').drop();
      d.push(low.store.getState().connection.chat.retryAt! - low.clock.now());
      low.clock.advance(d[i]!);
    }
    expect(d[0]).toBe(250);
    expect(d[9]).toBe(15_000); // half of the 30 s cap
    low.store.dispatch(sessionEnded());
  });

  it('catches up by seq after a reconnect, without doubles', async () => {
    const { store, chat } = await signedInWithOpenChat();
    expect(seqs(store.getState())).toEqual([1, 2, 3]);

    chat.drop();
    // Sent while we were away.
    serverMessages.push(msg('c1', 4), msg('c1', 5), msg('c1', 6, alice.id));
    const fetchesBefore = server.calls.length;
    // Reconnect now (the banner's "Retry now").
    store.dispatch({ type: 'sockets/reconnectRequested' });
    const again = FakeWebSocket.last('/ws/chat');
    expect(again).not.toBe(chat);
    again.open();
    // A live frame for a message the catch-up also returns.
    again.receive({ type: 'message', message: msg('c1', 5) });
    await waitFor(() => seqs(store.getState()).length === 6, 'six messages');

    expect(seqs(store.getState())).toEqual([1, 2, 3, 4, 5, 6]);
    const catchUps = server.calls.slice(fetchesBefore).filter((c) => c.path === '/api/conversations/c1/messages');
    expect(catchUps.map((c) => c.search.get('after'))).toEqual(['3']);
    const conv = store.getState().chat.conversations['c1']!;
    expect(conv.lastSeq).toBe(6);
    // Our own message 6 moved our read watermark: nothing unread.
    expect(conv.unread).toBe(0);
    // What arrived while away is reported delivered.
    await waitFor(() => again.sentOfType('delivered').length > 0, 'delivered');
  });

  it('pages through a long absence', async () => {
    const { store, chat } = await signedInWithOpenChat();
    chat.drop();
    for (let s = 4; s <= 260; s++) serverMessages.push(msg('c1', s));
    store.dispatch({ type: 'sockets/reconnectRequested' });
    FakeWebSocket.last('/ws/chat').open();
    await waitFor(() => store.getState().chat.messages['c1']!.syncedSeq === 260, 'synced to 260');
    const afters = server.calls.filter((c) => c.search.get('after') !== null).map((c) => c.search.get('after'));
    expect(afters).toEqual(['3', '103', '203']);
    expect(new Set(seqs(store.getState())).size).toBe(260);
  });

  it('a live message past a hole fetches the hole', async () => {
    const { store, chat } = await signedInWithOpenChat();
    serverMessages.push(msg('c1', 4), msg('c1', 5));
    chat.receive({ type: 'message', message: msg('c1', 5) });
    await waitFor(() => seqs(store.getState()).length === 5, 'hole filled');
    expect(seqs(store.getState())).toEqual([1, 2, 3, 4, 5]);
    expect(store.getState().chat.messages['c1']!.syncedSeq).toBe(5);
  });

  it('messages of a conversation not listed yet, arriving while an older list answer is on its way, are counted', async () => {
    // The list asked on open is answered as the server stood then (3 messages), after messages 4-6 came.
    let answerOld: () => void = () => {};
    const old = serverConversation();
    let held = true;
    server = fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: alice }),
      'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
      'GET /api/conversations': () =>
        held ? new Promise((r) => (answerOld = () => r({ conversations: [old] }))) : { conversations: [serverConversation()] },
    });
    const { store } = await signedIn();
    const chat = FakeWebSocket.last('/ws/chat');
    chat.open();
    await waitFor(() => server.calls.some((c) => c.path === '/api/conversations'), 'the list asked');
    for (const seq of [4, 5, 6]) {
      serverMessages.push(msg('c1', seq));
      chat.receive({ type: 'message', message: msg('c1', seq) });
    }
    held = false;
    answerOld();
    await waitFor(() => store.getState().chat.conversations['c1']?.lastSeq === 6, 'the newest counted');
    expect(store.getState().chat.conversations['c1']!.unread).toBe(6);
  });

  it('sends optimistically: queued while away, sent with one clientId, accepted, then replaced by the stored copy', async () => {
    const { store, chat } = await signedInWithOpenChat();
    chat.drop();
    store.dispatch(sendRequested({ conversationId: 'c1', body: 'hello' }));
    const [pending] = Object.values(store.getState().chat.pending);
    expect(pending).toMatchObject({ status: 'queued', body: 'hello', senderId: alice.id });
    const timeline = makeSelectTimeline();
    expect(timeline(store.getState(), 'c1').at(-1)).toMatchObject({ kind: 'pending' });

    store.dispatch({ type: 'sockets/reconnectRequested' });
    const again = FakeWebSocket.last('/ws/chat');
    again.open();
    const sends = again.sentOfType('send');
    expect(sends).toEqual([{ type: 'send', clientId: pending!.clientId, conversationId: 'c1', body: 'hello' }]);
    expect(store.getState().chat.pending[pending!.clientId]!.status).toBe('sending');

    again.receive({ type: 'accepted', clientId: pending!.clientId });
    expect(store.getState().chat.pending[pending!.clientId]!.status).toBe('accepted');

    const stored = msg('c1', 4, alice.id, { body: 'hello', clientId: pending!.clientId });
    serverMessages.push(stored);
    again.receive({ type: 'message', message: stored });
    await waitFor(() => seqs(store.getState()).includes(4), 'stored message');
    expect(store.getState().chat.pending).toEqual({});
    const items = timeline(store.getState(), 'c1');
    expect(items.filter((i) => i.kind === 'message' && i.message.clientId === pending!.clientId)).toHaveLength(1);
    expect(items.some((i) => i.kind === 'pending')).toBe(false);
  });

  it('a body the server would refuse is never queued nor sent', async () => {
    const { store, chat } = await signedInWithOpenChat();
    for (const body of ['', ' \n', '\u200b\u3164', 'a\u0000b']) store.dispatch(sendRequested({ conversationId: 'c1', body }));
    expect(store.getState().chat.pending).toEqual({});
    expect(chat.sentOfType('send')).toEqual([]);
    store.dispatch(sendRequested({ conversationId: 'c1', body: '\u2800', attachments: files(1) }));
    expect(chat.sentOfType('send').map((f) => f.body)).toEqual(['\u2800']);
  });

  it('a send without `accepted` fails, and retry resends the same clientId', async () => {
    const { store, chat, clock } = await signedInWithOpenChat();
    store.dispatch(sendRequested({ conversationId: 'c1', body: 'are you there?' }));
    const [p] = Object.values(store.getState().chat.pending);
    clock.advance(ACK_TIMEOUT_MS);
    expect(store.getState().chat.pending[p!.clientId]).toMatchObject({ status: 'failed' });

    store.dispatch(retryRequested(p!.clientId));
    const ids = chat.sentOfType('send').map((f) => f.clientId);
    expect(ids).toEqual([p!.clientId, p!.clientId]);
    expect(store.getState().chat.pending[p!.clientId]!.status).toBe('sending');

    chat.receive({ type: 'error', code: 'invalid_input', message: 'too long', clientId: p!.clientId });
    expect(store.getState().chat.pending[p!.clientId]).toMatchObject({ status: 'failed', error: 'Too long.' });
  });

  it('a message too big for a frame is not sent: it fails at once, a retry fails again, and the socket stays up', async () => {
    const { store, chat, clock } = await signedInWithOpenChat();
    const sockets = FakeWebSocket.count('/ws/chat');
    store.dispatch(sendRequested({ conversationId: 'c1', body: EMOJI_BODY, replyToSeq: 3, attachments: files(10) }));
    const [big] = Object.values(store.getState().chat.pending);
    expect(big).toMatchObject({ status: 'failed', error: TOO_LONG_TEXT });
    expect(chat.sentOfType('send')).toEqual([]);

    store.dispatch(retryRequested(big!.clientId));
    expect(store.getState().chat.pending[big!.clientId]).toMatchObject({ status: 'failed', error: 'This message is too long to send.' });
    expect(chat.sentOfType('send')).toEqual([]);

    // The next message goes as usual, on the same socket.
    store.dispatch(sendRequested({ conversationId: 'c1', body: 'shorter then' }));
    expect(chat.sentOfType('send').map((f) => f.body)).toEqual(['shorter then']);
    clock.advance(ACK_TIMEOUT_MS);
    expect(chat.sentOfType('send')).toHaveLength(1);
    expect(overLimit(chat)).toEqual([]);
    expect(chat.closedByClient).toBeNull();
    expect(FakeWebSocket.count('/ws/chat')).toBe(sockets);
    expect(store.getState().connection.chat.status).toBe('open');
  });

  it('a message too big for a frame, written while away, fails at once, and the reconnect sends only the others', async () => {
    const { store, chat } = await signedInWithOpenChat();
    chat.drop();
    store.dispatch(sendRequested({ conversationId: 'c1', body: EMOJI_BODY, attachments: files(10) }));
    store.dispatch(sendRequested({ conversationId: 'c1', body: 'hello' }));
    const [big, hello] = Object.values(store.getState().chat.pending);
    expect(big).toMatchObject({ status: 'failed', error: TOO_LONG_TEXT });
    expect(hello).toMatchObject({ status: 'queued' });

    store.dispatch({ type: 'sockets/reconnectRequested' });
    const again = FakeWebSocket.last('/ws/chat');
    again.open();
    expect(again.sentOfType('send').map((f) => f.clientId)).toEqual([hello!.clientId]);
    expect(overLimit(again)).toEqual([]);
    expect(store.getState().chat.pending[big!.clientId]!.status).toBe('failed');
  });

  it('a message just within the frame limit is sent', async () => {
    const { store, chat } = await signedInWithOpenChat();
    store.dispatch(sendRequested({ conversationId: 'c1', body: EMOJI_BODY, replyToSeq: 3, attachments: files(6) }));
    const [p] = Object.values(store.getState().chat.pending);
    const [sent] = chat.sentOfType('send');
    expect(sent).toMatchObject({ clientId: p!.clientId, body: EMOJI_BODY, replyToSeq: 3 });
    expect(frameBytes(sent as ChatClientFrame)).toBeGreaterThan(MAX_FRAME_BYTES - 100);
    expect(frameBytes(sent as ChatClientFrame)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(store.getState().chat.pending[p!.clientId]!.status).toBe('sending');
  });

  it('an edit too big for a frame is not sent, and says why', async () => {
    serverMessages = [1, 2, 3].map((s) => msg('c1', s, alice.id));
    const { store, chat } = await signedInWithOpenChat();
    // Within the characters, but each one escaped in JSON as six bytes.
    store.dispatch(editRequested({ conversationId: 'c1', seq: 3, body: '\u0007'.repeat(MAX_BODY_CHARS) }));
    expect(chat.sentOfType('edit')).toEqual([]);
    expect(store.getState().notices.items.map((n) => n.text)).toEqual([TOO_LONG_TEXT]);
    expect(chat.closedByClient).toBeNull();

    store.dispatch(editRequested({ conversationId: 'c1', seq: 3, body: 'better' }));
    expect(chat.sentOfType('edit')).toEqual([{ type: 'edit', conversationId: 'c1', seq: 3, body: 'better' }]);
  });

  it('reports delivered for received messages, and read watermarks that only grow', async () => {
    const { store, chat } = await signedInWithOpenChat();
    chat.receive({ type: 'message', message: msg('c1', 4) });
    expect(chat.sentOfType('delivered')).toContainEqual({ type: 'delivered', conversationId: 'c1', seq: 4 });
    expect(store.getState().chat.conversations['c1']!.unread).toBe(4);

    store.dispatch(readRequested({ conversationId: 'c1', seq: 4 }));
    store.dispatch(readRequested({ conversationId: 'c1', seq: 2 }));
    expect(chat.sentOfType('read')).toEqual([{ type: 'read', conversationId: 'c1', seq: 4 }]);
    expect(store.getState().chat.conversations['c1']!.unread).toBe(0);
  });

  it('applies receipts to the ticks of my messages', async () => {
    serverMessages = [1, 2, 3].map((s) => msg('c1', s, alice.id));
    const { store, chat } = await signedInWithOpenChat();
    chat.receive({ type: 'receipt', conversationId: 'c1', userId: bob.id, deliveredSeq: 3, readSeq: 2 });
    chat.receive({ type: 'receipt', conversationId: 'c1', userId: bob.id, deliveredSeq: 1, readSeq: 1 }); // stale
    expect(store.getState().chat.conversations['c1']).toMatchObject({ peerDeliveredSeq: 3, peerReadSeq: 2 });
  });

  it('shows typing for a while, and throttles our own typing frames', async () => {
    const { store, chat, clock } = await signedInWithOpenChat();
    chat.receive({ type: 'typing', conversationId: 'c1', userId: bob.id });
    expect(store.getState().typing.byConversation['c1']).toEqual({ [bob.id]: clock.now() + TYPING_SHOW_MS });
    clock.advance(TYPING_SHOW_MS);
    expect(store.getState().typing.byConversation['c1']).toBeUndefined();

    store.dispatch(typingRequested('c1'));
    store.dispatch(typingRequested('c1'));
    clock.advance(3000);
    store.dispatch(typingRequested('c1'));
    expect(chat.sentOfType('typing')).toHaveLength(2);
  });

  it('reconnects when a ping gets no answer', async () => {
    const { chat, clock } = await signedInWithOpenChat();
    clock.advance(25_000);
    expect(chat.sentOfType('ping')).toHaveLength(1);
    clock.advance(10_000);
    expect(chat.closedByClient).not.toBeNull();
    const before = FakeWebSocket.count('/ws/chat');
    clock.advance(1000);
    expect(FakeWebSocket.count('/ws/chat')).toBe(before + 1);
  });

  it('waits while the browser is offline and reconnects at once when it is back', async () => {
    const { store, chat, clock } = await signedInWithOpenChat();
    store.dispatch(browserOnlineChanged(false));
    expect(chat.closedByClient).not.toBeNull();
    expect(selectBanner(store.getState()).kind).toBe('offline');
    const before = FakeWebSocket.count('/ws/chat');
    clock.advance(120_000);
    expect(FakeWebSocket.count('/ws/chat')).toBe(before);
    store.dispatch(browserOnlineChanged(true));
    expect(FakeWebSocket.count('/ws/chat')).toBe(before + 1);
  });

  it('presence is not live while the notifications socket is down, and is fetched again when it is back', async () => {
    const { store } = await signedInWithOpenChat();
    const peer = () => {
      const c = store.getState().chat.conversations['c1'];
      return c?.kind === 'direct' ? c.peer : null;
    };
    expect(peer()?.online).toBe(true);
    expect(selectPresenceLive(store.getState())).toBe(true);
    FakeWebSocket.last('/ws/notifications').drop();
    expect(selectPresenceLive(store.getState())).toBe(false);
    // Bob went offline meanwhile: that presence frame never reached us (the chat socket stayed open).
    const withBobAway = serverConversation;
    serverConversation = () => ({ ...withBobAway(), peer: { id: bob.id, username: bob.username, online: false, lastSeenAt: '2025-01-01T12:00:00Z' } });
    store.dispatch({ type: 'sockets/reconnectRequested' });
    FakeWebSocket.last('/ws/notifications').open();
    expect(selectPresenceLive(store.getState())).toBe(true);
    await waitFor(() => peer()?.online === false, 'the peer as the server has it now');
  });

  it('signing out closes the sockets and forgets the conversations', async () => {
    const { store, chat } = await signedInWithOpenChat();
    store.dispatch(sessionEnded());
    expect(chat.closedByClient).not.toBeNull();
    expect(store.getState().chat.conversations).toEqual({});
    expect(store.getState().connection.chat.status).toBe('idle');
    expect(selectBanner(store.getState()).kind).toBe('none');
  });
});
