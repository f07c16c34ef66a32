import { describe, expect, it } from 'vitest';
import type { Message } from '../../api/types';
import { alice, bob, conversation, msg } from '../../test/fakes';
import { changesLoaded, conversationsLoaded, pageLoaded, reduce, signedInAs } from '../../test/actions';
import { chatReducer, historyReset, messageQueued, messageReceived, messageUpdated } from './chatSlice';
import { makeSelectTimeline } from './selectors';

const range = (a: number, b: number): Message[] => Array.from({ length: b - a + 1 }, (_, i) => msg('c1', a + i));
const seqs = (s: ReturnType<typeof reduce>) => s.messages['c1']!.items.map((m) => m.seq);

describe('a history window opened at a message', () => {
  const opened = () =>
    reduce(
      signedInAs(alice.id),
      conversationsLoaded([conversation('c1', 500)]),
      pageLoaded({ conversationId: 'c1' }, { messages: range(451, 500), hasMore: true }),
      // A search result at seq 100: the page after 74 replaces the window.
      pageLoaded({ conversationId: 'c1', after: 74, limit: 50, replace: true }, { messages: range(75, 124), hasMore: true }),
    );

  it('replaces the loaded window, stopping short of the newest messages', () => {
    const s = opened();
    expect(s.messages['c1']).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true, syncedSeq: 124, epoch: 2 });
    expect(seqs(s)[0]).toBe(75);
    expect(seqs(s).at(-1)).toBe(124);
  });

  it('takes no live message beyond its end, and no pending one is shown after it', () => {
    let s = opened();
    s = chatReducer(s, messageReceived(msg('c1', 501)));
    expect(seqs(s).at(-1)).toBe(124);
    expect(s.conversations['c1']!.lastSeq).toBe(501);
    s = chatReducer(s, messageQueued({ clientId: 'k', conversationId: 'c1', senderId: alice.id, body: 'hi', replyToSeq: null, attachments: [], createdAt: '2025-01-01T12:00:00Z' }));
    const timeline = makeSelectTimeline();
    expect(timeline({ chat: s }, 'c1').some((i) => i.kind === 'pending')).toBe(false);
  });

  it('grows with newer pages until it reaches the end, then follows live messages again', () => {
    let s = opened();
    s = chatReducer(s, pageLoaded({ conversationId: 'c1', after: 124, limit: 100 }, { messages: range(125, 224), hasMore: true }));
    expect(s.messages['c1']).toMatchObject({ hasMoreAfter: true, syncedSeq: 224 });
    s = chatReducer(s, pageLoaded({ conversationId: 'c1', after: 224, limit: 100 }, { messages: range(225, 324), hasMore: false }));
    expect(s.messages['c1']).toMatchObject({ hasMoreAfter: false, syncedSeq: 324 });
    s = chatReducer(s, messageReceived(msg('c1', 501)));
    expect(seqs(s).at(-1)).toBe(501); // past a hole, which the socket fills
  });

  it('a stale catch-up page does not end the window', () => {
    let s = opened();
    s = chatReducer(s, pageLoaded({ conversationId: 'c1', after: 500 }, { messages: [], hasMore: false }));
    expect(s.messages['c1']!.hasMoreAfter).toBe(true);
  });

  it('"jump to latest" forgets the window', () => {
    const s = chatReducer(opened(), historyReset('c1'));
    expect(s.messages['c1']).toBeUndefined();
  });
});

describe('edits, deletes and reactions', () => {
  const loaded = (lastChange = 4) =>
    reduce(
      signedInAs(alice.id),
      conversationsLoaded([conversation('c1', 3, { lastChange })]),
      pageLoaded({ conversationId: 'c1' }, { messages: range(1, 3), hasMore: false }),
    );

  it('a change replaces the message where it shows: history and the list’s last message', () => {
    let s = loaded();
    expect(s.appliedChange['c1']).toBe(4);
    const deleted = msg('c1', 3, bob.id, { body: '', deletedAt: '2025-01-01T12:00:00Z' });
    s = chatReducer(s, messageUpdated({ message: deleted, change: 5 }));
    expect(s.messages['c1']!.items[2]).toEqual(deleted);
    expect(s.conversations['c1']!.lastMessage).toEqual(deleted);
    expect(s.appliedChange['c1']).toBe(5);
  });

  it('a skipped change number leaves the applied counter where it was, for catch-up to fill', () => {
    let s = loaded();
    const edited = msg('c1', 1, bob.id, { body: 'edited', editedAt: '2025-01-01T12:00:00Z' });
    s = chatReducer(s, messageUpdated({ message: edited, change: 7 }));
    expect(s.messages['c1']!.items[0]!.body).toBe('edited');
    expect(s.appliedChange['c1']).toBe(4);
    const reacted = msg('c1', 2, bob.id, { reactions: [{ emoji: '👍', userIds: [alice.id] }] });
    s = chatReducer(s, changesLoaded({ conversationId: 'c1', since: 4 }, { messages: [reacted, edited], lastChange: 7, hasMore: false }));
    expect(s.messages['c1']!.items[1]!.reactions).toEqual([{ emoji: '👍', userIds: [alice.id] }]);
    expect(s.appliedChange['c1']).toBe(7);
  });

  it('a page never overwrites a message already held (changes come only from updates)', () => {
    let s = loaded();
    const edited = msg('c1', 3, bob.id, { body: 'new text', editedAt: '2025-01-01T12:00:00Z' });
    s = chatReducer(s, messageUpdated({ message: edited, change: 5 }));
    s = chatReducer(s, pageLoaded({ conversationId: 'c1', after: 0 }, { messages: range(1, 3), hasMore: false }));
    expect(s.messages['c1']!.items[2]!.body).toBe('new text');
  });
});
