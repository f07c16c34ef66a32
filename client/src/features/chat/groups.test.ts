import { describe, expect, it } from 'vitest';
import type { Conversation } from '../../api/types';
import { alice, bob, carol, conversation, group, msg } from '../../test/fakes';
import { conversationsLoaded, conversationsRequested, pageLoaded, reduce, signedInAs } from '../../test/actions';
import {
  chatReducer,
  conversationReceived,
  conversationRemoved,
  listChanges,
  messageQueued,
  messageReceived,
  readMarked,
  receiptReceived,
} from './chatSlice';
import { namesList, readBy, tickFor, typingText } from './conversation';
import { composerModeSet, chatViewReducer } from './viewSlice';
import { typingReceived, typingReducer } from './typingSlice';

const receipts = (c: Conversation | undefined) => (c?.kind === 'group' ? c.receipts : []);

describe('group conversations in the chat slice', () => {
  it('a message moves its sender’s watermarks: a peer’s read follows their messages, mine are never unread', () => {
    let s = reduce(
      signedInAs(alice.id),
      conversationsLoaded([conversation('d', 2, { peerReadSeq: 0, peerDeliveredSeq: 0, myReadSeq: 0, unread: 2 })]),
    );
    s = chatReducer(s, messageReceived(msg('d', 3, bob.id)));
    expect(s.conversations['d']).toMatchObject({ peerReadSeq: 3, peerDeliveredSeq: 3, unread: 3 });
    s = chatReducer(s, messageReceived(msg('d', 4, alice.id)));
    expect(s.conversations['d']).toMatchObject({ myReadSeq: 4, unread: 0 });
  });

  it('group receipts: each member’s watermarks, from receipts and from their own messages', () => {
    const zero = [alice, bob, carol].map((u) => ({ userId: u.id, deliveredSeq: 0, readSeq: 0 }));
    let s = reduce(signedInAs(alice.id), conversationsLoaded([group('g', 0, { receipts: zero })]));
    s = chatReducer(s, messageReceived(msg('g', 1, alice.id)));
    s = chatReducer(s, messageReceived(msg('g', 2, alice.id)));
    expect(tickFor(2, s.conversations['g'], alice.id)).toBe('sent');
    s = chatReducer(s, receiptReceived({ conversationId: 'g', userId: bob.id, deliveredSeq: 2, readSeq: 1 }));
    // carol has nothing yet: not delivered to everyone.
    expect(tickFor(1, s.conversations['g'], alice.id)).toBe('sent');
    expect(readBy(s.conversations['g'], 1, alice.id)).toEqual([bob.id]);
    // carol answers: her message says she read everything before it.
    s = chatReducer(s, messageReceived(msg('g', 3, carol.id)));
    expect(readBy(s.conversations['g'], 2, alice.id)).toEqual([carol.id]);
    expect(readBy(s.conversations['g'], 1, alice.id)).toEqual([bob.id, carol.id]);
    expect(tickFor(1, s.conversations['g'], alice.id)).toBe('read');
    expect(tickFor(2, s.conversations['g'], alice.id)).toBe('delivered');
    // A stale receipt moves nothing back.
    s = chatReducer(s, receiptReceived({ conversationId: 'g', userId: bob.id, deliveredSeq: 0, readSeq: 0 }));
    expect(receipts(s.conversations['g']).find((r) => r.userId === bob.id)).toEqual({ userId: bob.id, deliveredSeq: 2, readSeq: 1 });
    // Reading here moves my own receipt too.
    s = chatReducer(s, readMarked({ conversationId: 'g', seq: 3 }));
    expect(s.conversations['g']).toMatchObject({ myReadSeq: 3, unread: 0 });
    expect(receipts(s.conversations['g']).find((r) => r.userId === alice.id)?.readSeq).toBe(3);
  });

  it('a conversation frame renames and changes members; watermarks already known never go back', () => {
    let s = reduce(signedInAs(alice.id), conversationsLoaded([group('g', 5)]));
    const renamed = group('g', 4, {
      title: 'Family 2025',
      members: [
        { id: alice.id, username: 'alice', role: 'owner' },
        { id: bob.id, username: 'bob', role: 'member' },
      ],
      receipts: [
        { userId: alice.id, deliveredSeq: 1, readSeq: 1 },
        { userId: bob.id, deliveredSeq: 5, readSeq: 5 },
      ],
    });
    s = chatReducer(s, conversationReceived(renamed));
    const g = s.conversations['g']!;
    expect(g.kind === 'group' && g.title).toBe('Family 2025');
    expect(g.kind === 'group' && g.members.map((m) => m.username)).toEqual(['alice', 'bob']);
    expect(receipts(g)).toEqual([
      { userId: alice.id, deliveredSeq: 5, readSeq: 5 },
      { userId: bob.id, deliveredSeq: 5, readSeq: 5 },
    ]);
    expect(g).toMatchObject({ lastSeq: 5, myReadSeq: 5 });
  });

  it('a group I am added to appears; one I am removed from goes with its messages and unsent ones', () => {
    let s = reduce(signedInAs(alice.id), conversationsLoaded([]));
    s = chatReducer(s, conversationReceived(group('g', 2, { lastChange: 7 })));
    expect(s.conversations['g']).toBeDefined();
    // Its messages load in their current state: no change to catch up on.
    expect(s.appliedChange['g']).toBe(7);
    s = chatReducer(s, pageLoaded({ conversationId: 'g' }, { messages: [msg('g', 1), msg('g', 2)], hasMore: false }));
    s = chatReducer(s, messageQueued({ clientId: 'k', conversationId: 'g', senderId: alice.id, body: 'hi', replyToSeq: 2, attachments: [], createdAt: '2025-01-01T12:00:00Z' }));
    s = chatReducer(s, conversationRemoved('g'));
    expect(s.conversations['g']).toBeUndefined();
    expect(s.messages['g']).toBeUndefined();
    expect(s.pending).toEqual({});
  });

  it('a conversation missing from a later list (removed while away) goes', () => {
    let s = reduce(signedInAs(alice.id), conversationsLoaded([conversation('d', 1), group('g', 1)]));
    s = chatReducer(s, conversationsLoaded([conversation('d', 2)]));
    expect(Object.keys(s.conversations)).toEqual(['d']);
  });

  it('a removed conversation forgets who typed there and the composer’s reply', () => {
    let typing = typingReducer(undefined, typingReceived({ conversationId: 'g', userId: bob.id, until: 10 }));
    typing = typingReducer(typing, typingReceived({ conversationId: 'g', userId: carol.id, until: 10 }));
    expect(Object.keys(typing.byConversation['g']!)).toEqual([bob.id, carol.id]);
    typing = typingReducer(typing, messageReceived(msg('g', 3, bob.id)));
    expect(Object.keys(typing.byConversation['g']!)).toEqual([carol.id]);
    typing = typingReducer(typing, conversationRemoved('g'));
    expect(typing.byConversation).toEqual({});

    let view = chatViewReducer(undefined, composerModeSet({ conversationId: 'g', mode: { kind: 'reply', seq: 2 } }));
    view = chatViewReducer(view, conversationRemoved('g'));
    expect(view.composer).toEqual({});
  });
});

describe('a conversation list answer older than a membership frame', () => {
  const family = group('g', 3, { title: 'Family' });
  const bookClub = group('g2', 0, { title: 'Book club' });
  const known = () => reduce(signedInAs(alice.id), conversationsLoaded([family]));

  it('a group I was added to after the list was asked for is not gone from it', () => {
    let s = chatReducer(known(), conversationsRequested('r2'));
    s = chatReducer(s, conversationReceived(bookClub)); // the `conversation` frame, before the answer
    expect(listChanges(s, [family], 'r2').gone).toEqual([]);
    s = chatReducer(s, conversationsLoaded([family], 'r2'));
    expect(Object.keys(s.conversations).sort()).toEqual(['g', 'g2']);
  });

  it('a group known before the list was asked for and missing from it is gone', () => {
    let s = chatReducer(known(), conversationReceived(bookClub));
    s = chatReducer(s, conversationsRequested('r2'));
    expect(listChanges(s, [family], 'r2').gone.map((c) => c.id)).toEqual(['g2']);
    s = chatReducer(s, conversationsLoaded([family], 'r2'));
    expect(Object.keys(s.conversations)).toEqual(['g']);
  });

  it('a group removed and added again while the list is on its way counts from when it came back', () => {
    let s = chatReducer(known(), conversationsRequested('r2'));
    s = chatReducer(s, conversationRemoved('g'));
    s = chatReducer(s, conversationReceived(family));
    s = chatReducer(s, conversationsLoaded([], 'r2'));
    expect(s.conversations['g']).toBeDefined();
  });

  it('a group I was removed from after the list was asked for does not come back with it', () => {
    let s = chatReducer(known(), conversationReceived(bookClub));
    s = chatReducer(s, conversationsRequested('r2'));
    s = chatReducer(s, conversationRemoved('g2'));
    s = chatReducer(s, conversationsLoaded([family, bookClub], 'r2'));
    expect(Object.keys(s.conversations)).toEqual(['g']);
    // Nothing kept once no list is on its way: a later list may add it again.
    expect(s.leftAt).toEqual({});
    s = chatReducer(s, conversationsLoaded([family, bookClub]));
    expect(Object.keys(s.conversations).sort()).toEqual(['g', 'g2']);
  });

  it('the first list, and one whose start was not seen, compare against everything known', () => {
    expect(listChanges(reduce(signedInAs(alice.id)), [], 'r').gone).toEqual([]);
    const s = chatReducer(known(), conversationReceived(bookClub));
    expect(listChanges(s, [family], 'unseen').gone.map((c) => c.id)).toEqual(['g2']);
  });
});

describe('conversation texts', () => {
  it('says who is typing, by name in groups', () => {
    const g = group('g', 1);
    const names = { [bob.id]: 'bob', [carol.id]: 'carol', 'u-dan': 'dan' };
    expect(typingText(g, [], names)).toBeNull();
    expect(typingText(g, [bob.id], names)).toBe('bob is typing');
    expect(typingText(g, [bob.id, carol.id], names)).toBe('bob and carol are typing');
    expect(typingText(g, [bob.id, carol.id, 'u-dan'], names)).toBe('3 people are typing');
    expect(typingText(conversation('d', 1), [bob.id], names)).toBe('typing');
  });

  it('lists names the way people say them', () => {
    expect(namesList(['you'])).toBe('you');
    expect(namesList(['you', 'bob'])).toBe('you and bob');
    expect(namesList(['you', 'bob', 'carol'])).toBe('you, bob and carol');
    expect(namesList(['you', 'bob', 'carol', 'dan', 'eve'])).toBe('you, bob and 3 others');
  });
});
