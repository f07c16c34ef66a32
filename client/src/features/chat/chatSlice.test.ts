import { describe, expect, it } from 'vitest';
import { api } from '../../api/http';
import type { Message } from '../../api/types';
import { conversationsLoaded, pageLoaded, reduce, signedInAs } from '../../test/actions';
import { alice, bob, conversation, msg } from '../../test/fakes';
import {
  chatReducer,
  messageAccepted,
  messageFailed,
  messageQueued,
  messageReceived,
  messageRetried,
  readMarked,
  receiptReceived,
  sendingRequeued,
} from './chatSlice';
import { makeSelectTimeline, pendingTick, selectConversations, selectTotalUnread, tickFor } from './selectors';
import { presenceChanged } from '../users/usersSlice';

const range = (a: number, b: number, from = bob.id): Message[] => Array.from({ length: b - a + 1 }, (_, i) => msg('c1', a + i, from));

describe('chat slice', () => {
  it('the matchers really match RTK Query actions', () => {
    expect(api.endpoints.messages.matchFulfilled(pageLoaded({ conversationId: 'c1' }, { messages: [], hasMore: false }) as never)).toBe(true);
  });

  it('loads the newest page, then older pages before it', () => {
    const s = reduce(
      signedInAs(alice.id),
      conversationsLoaded([conversation('c1', 120)]),
      pageLoaded({ conversationId: 'c1' }, { messages: range(71, 120), hasMore: true }),
      pageLoaded({ conversationId: 'c1', before: 71 }, { messages: range(21, 70), hasMore: true }),
    );
    const entry = s.messages['c1']!;
    expect(entry.items[0]!.seq).toBe(21);
    expect(entry.items).toHaveLength(100);
    expect(entry.hasMoreBefore).toBe(true);
    expect(entry.syncedSeq).toBe(120);
  });

  it('an empty conversation is loaded and syncs from seq 0', () => {
    const s = reduce(
      signedInAs(alice.id),
      conversationsLoaded([conversation('c1', 0)]),
      pageLoaded({ conversationId: 'c1' }, { messages: [], hasMore: false }),
      messageReceived(msg('c1', 1)),
    );
    expect(s.messages['c1']).toMatchObject({ syncedSeq: 1, hasMoreBefore: false });
  });

  it('a live message counts as unread until read, mine never do', () => {
    let s = reduce(signedInAs(alice.id), conversationsLoaded([conversation('c1', 3)]));
    s = chatReducer(s, messageReceived(msg('c1', 4)));
    s = chatReducer(s, messageReceived(msg('c1', 5)));
    expect(s.conversations['c1']).toMatchObject({ lastSeq: 5, unread: 2 });
    s = chatReducer(s, readMarked({ conversationId: 'c1', seq: 4 }));
    expect(s.conversations['c1']!.unread).toBe(1);
    s = chatReducer(s, messageReceived(msg('c1', 6, alice.id)));
    expect(s.conversations['c1']).toMatchObject({ lastSeq: 6, myReadSeq: 6, unread: 0 });
  });

  it('live messages of a conversation that was never opened only update its summary', () => {
    const s = reduce(signedInAs(alice.id), conversationsLoaded([conversation('c1', 3)]), messageReceived(msg('c1', 4)));
    expect(s.messages['c1']).toBeUndefined();
    expect(s.conversations['c1']!.lastMessage!.seq).toBe(4);
  });

  it('an older conversations answer never moves watermarks back', () => {
    const s = reduce(
      signedInAs(alice.id),
      conversationsLoaded([conversation('c1', 5, { peerReadSeq: 5, myReadSeq: 5 })]),
      conversationsLoaded([conversation('c1', 3, { peerReadSeq: 2, myReadSeq: 1, unread: 2 })]),
    );
    expect(s.conversations['c1']).toMatchObject({ lastSeq: 5, peerReadSeq: 5, myReadSeq: 5, unread: 0 });
  });

  it('receipts: the peer moves ticks, my other tab moves my read mark', () => {
    let s = reduce(signedInAs(alice.id), conversationsLoaded([conversation('c1', 5, { myReadSeq: 2, unread: 3, peerDeliveredSeq: 0, peerReadSeq: 0 })]));
    s = chatReducer(s, receiptReceived({ conversationId: 'c1', userId: bob.id, deliveredSeq: 4, readSeq: 3 }));
    s = chatReducer(s, receiptReceived({ conversationId: 'c1', userId: alice.id, deliveredSeq: 5, readSeq: 5 }));
    expect(s.conversations['c1']).toMatchObject({ peerDeliveredSeq: 4, peerReadSeq: 3, myReadSeq: 5, unread: 0 });
  });

  it('a refusal is final even when `accepted` arrives after it; a late `accepted` after a timeout still counts', () => {
    const base = { clientId: 'k2', conversationId: 'c1', senderId: alice.id, body: 'hi', replyToSeq: null, attachments: [], createdAt: '2025-01-01T12:00:00Z' };
    let s = reduce(signedInAs(alice.id), conversationsLoaded([conversation('c1', 1)]));
    s = chatReducer(s, messageQueued(base));
    s = chatReducer(s, messageFailed({ clientId: 'k2', error: 'You cannot message this user.', refused: true }));
    s = chatReducer(s, messageAccepted('k2'));
    expect(s.pending['k2']).toMatchObject({ status: 'failed', error: 'You cannot message this user.' });
    s = chatReducer(s, messageRetried('k2'));
    s = chatReducer(s, messageFailed({ clientId: 'k2', error: 'Not confirmed by the server.' }));
    s = chatReducer(s, messageAccepted('k2'));
    expect(s.pending['k2']).toMatchObject({ status: 'accepted', error: null });
  });

  it('pending messages: queued → sending → accepted, or failed → retried, then replaced by the stored copy', () => {
    const base = { clientId: 'k1', conversationId: 'c1', senderId: alice.id, body: 'hi', replyToSeq: null, attachments: [], createdAt: '2025-01-01T12:00:00Z' };
    let s = reduce(signedInAs(alice.id), conversationsLoaded([conversation('c1', 1)]), pageLoaded({ conversationId: 'c1' }, { messages: [msg('c1', 1)], hasMore: false }));
    s = chatReducer(s, messageQueued(base));
    s = chatReducer(s, messageFailed({ clientId: 'k1', error: 'nope' }));
    expect(pendingTick(s.pending['k1']!)).toBe('failed');
    s = chatReducer(s, messageRetried('k1'));
    expect(s.pending['k1']!.status).toBe('queued');
    s = chatReducer(s, { type: 'chat/messageSending', payload: 'k1' });
    s = chatReducer(s, sendingRequeued());
    expect(s.pending['k1']!.status).toBe('queued');
    s = chatReducer(s, messageAccepted('k1'));
    expect(pendingTick(s.pending['k1']!)).toBe('sent');
    // Rejected after `accepted` (say, the conversation is gone): failed, and retry is offered.
    s = chatReducer(s, messageFailed({ clientId: 'k1', error: 'no such conversation' }));
    expect(pendingTick(s.pending['k1']!)).toBe('failed');
    s = chatReducer(s, messageRetried('k1'));
    s = chatReducer(s, messageAccepted('k1'));
    expect(pendingTick(s.pending['k1']!)).toBe('sent');

    const timeline = makeSelectTimeline();
    expect(timeline({ chat: s }, 'c1').map((i) => i.kind)).toEqual(['message', 'pending']);
    s = chatReducer(s, messageReceived(msg('c1', 2, alice.id, { clientId: 'k1', body: 'hi' })));
    expect(s.pending).toEqual({});
    expect(timeline({ chat: s }, 'c1').map((i) => i.kind)).toEqual(['message', 'message']);
  });

  it('presence reaches conversation peers', () => {
    const s = reduce(conversationsLoaded([conversation('c1', 1)]), presenceChanged({ userId: bob.id, username: 'bob', online: false, lastSeenAt: '2025-01-01T00:00:00Z' }));
    expect(s.conversations['c1']).toMatchObject({ peer: { online: false, lastSeenAt: '2025-01-01T00:00:00Z' } });
  });
});

describe('chat selectors', () => {
  it('lists conversations by latest activity and sums unread', () => {
    const at = (iso: string, seq: number) => ({ ...msg('x', seq), sentAt: iso });
    const s = reduce(
      conversationsLoaded([
        conversation('old', 1, { lastMessage: at('2025-01-01T08:00:00Z', 1), unread: 1 }),
        conversation('empty', 0),
        conversation('new', 2, { lastMessage: at('2025-01-02T08:00:00Z', 2), unread: 2, myReadSeq: 0 }),
      ]),
    );
    expect(selectConversations({ chat: s }).map((c) => c.id)).toEqual(['new', 'old', 'empty']);
    expect(selectTotalUnread({ chat: s })).toBe(3);
    expect(selectTotalUnread({ chat: s }, ['new']), 'a muted conversation asks for no attention').toBe(1);
  });

  it('ticks follow the peer watermarks', () => {
    const c = conversation('c1', 6, { peerDeliveredSeq: 5, peerReadSeq: 3 });
    expect([2, 3, 4, 5, 6].map((seq) => tickFor(seq, c, alice.id))).toEqual(['read', 'read', 'delivered', 'delivered', 'sent']);
  });
});
