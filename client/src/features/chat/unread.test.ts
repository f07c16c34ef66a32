import { combineReducers, configureStore } from '@reduxjs/toolkit';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../api/types';
import { conversationsLoaded, pageLoaded, signedInAs } from '../../test/actions';
import { alice, bob, conversation, msg } from '../../test/fakes';
import { chatReducer, conversationRemoved, messageReceived, readMarked } from './chatSlice';
import { enterConversation, firstUnreadSeq } from './unread';
import { chatViewReducer, dividerPlaced, focusCleared, messageFocused } from './viewSlice';

const range = (a: number, b: number, from = bob.id): Message[] => Array.from({ length: b - a + 1 }, (_, i) => msg('c1', a + i, from));

describe('the first unread message', () => {
  const read = (myReadSeq: number, lastSeq = 10) => conversation('c1', lastSeq, { myReadSeq, unread: lastSeq - myReadSeq });

  it('is the one after my read watermark', () => {
    expect(firstUnreadSeq(read(6), range(1, 10), alice.id)).toBe(7);
  });

  it('is none when everything is read', () => {
    expect(firstUnreadSeq(read(10), range(1, 10), alice.id)).toBeNull();
  });

  it('is never one of mine: my own messages after the watermark are skipped', () => {
    const items = [...range(1, 8), ...range(9, 9, alice.id), ...range(10, 10)];
    expect(firstUnreadSeq(read(7), items, alice.id)).toBe(8);
    expect(firstUnreadSeq(read(8), items, alice.id)).toBe(10);
    expect(firstUnreadSeq(read(8, 9), items.slice(0, 9), alice.id)).toBeNull();
  });

  it('lands past the watermark when those messages are not loaded (their sender is not known)', () => {
    expect(firstUnreadSeq(read(40, 200), [], alice.id)).toBe(41);
    // The loaded window ends at my own message 9; 10 is not loaded.
    expect(firstUnreadSeq(read(8), [...range(1, 8), ...range(9, 9, alice.id)], alice.id)).toBe(10);
  });
});

function store() {
  const s = configureStore({ reducer: combineReducers({ chat: chatReducer, chatView: chatViewReducer }) });
  s.dispatch(signedInAs(alice.id));
  return s;
}

describe('opening a conversation', () => {
  it('with unread messages: at the first, under the "New messages" line, brought to the top and not highlighted', () => {
    const s = store();
    s.dispatch(conversationsLoaded([conversation('c1', 300, { myReadSeq: 120, unread: 180 })]));
    s.dispatch(enterConversation('c1'));
    expect(s.getState().chatView.divider).toEqual({ conversationId: 'c1', seq: 121 });
    expect(s.getState().chatView.focus).toMatchObject({ conversationId: 'c1', seq: 121, unread: true });
  });

  it('with nothing unread: at the newest, and a line from before goes', () => {
    const s = store();
    s.dispatch(conversationsLoaded([conversation('c1', 10, { myReadSeq: 8, unread: 2 })]));
    s.dispatch(enterConversation('c1'));
    s.dispatch(focusCleared()); // the list got there
    s.dispatch(readMarked({ conversationId: 'c1', seq: 10 }));
    expect(s.getState().chatView.divider?.seq).toBe(9); // read, still open: the line stays
    s.dispatch(enterConversation('c1')); // opened again
    expect(s.getState().chatView.divider).toBeNull();
    expect(s.getState().chatView.focus).toBeNull();
  });

  it('whose unread are all my own (sent from a tab that has not told this one yet): at the newest', () => {
    const s = store();
    s.dispatch(conversationsLoaded([conversation('c1', 10, { myReadSeq: 8, unread: 2 })]));
    s.dispatch(pageLoaded({ conversationId: 'c1' }, { messages: [...range(1, 8), ...range(9, 10, alice.id)], hasMore: false }));
    s.dispatch(enterConversation('c1'));
    expect(s.getState().chatView.divider).toBeNull();
    expect(s.getState().chatView.focus).toBeNull();
  });

  it('at a search result: the result wins where it opens, and the line still marks the first unread', () => {
    const s = store();
    s.dispatch(conversationsLoaded([conversation('c1', 300, { myReadSeq: 250, unread: 50 })]));
    s.dispatch(messageFocused({ conversationId: 'c1', seq: 42 }));
    s.dispatch(enterConversation('c1'));
    expect(s.getState().chatView.focus).toMatchObject({ seq: 42, unread: false });
    expect(s.getState().chatView.divider).toEqual({ conversationId: 'c1', seq: 251 });
  });

  it('not in the list: at the newest', () => {
    const s = store();
    s.dispatch(conversationsLoaded([]));
    s.dispatch(enterConversation('c1'));
    expect(s.getState().chatView.focus).toBeNull();
    expect(s.getState().chatView.divider).toBeNull();
  });
});

describe('while a conversation is open', () => {
  /** Open at the newest with nothing unread, its history loaded. */
  function opened() {
    const s = store();
    s.dispatch(conversationsLoaded([conversation('c1', 10)]));
    s.dispatch(pageLoaded({ conversationId: 'c1' }, { messages: range(1, 10), hasMore: false }));
    s.dispatch(enterConversation('c1'));
    return s;
  }
  /** What the list does for a message that arrived unseen (see useLineForUnseen). */
  const lineForUnseen = (s: ReturnType<typeof store>) => {
    const { chat } = s.getState();
    const seq = firstUnreadSeq(chat.conversations['c1']!, chat.messages['c1']!.items, alice.id);
    if (seq !== null) s.dispatch(dividerPlaced({ conversationId: 'c1', seq }));
  };

  it('a message arriving unseen gets the line; reading it and more arriving leave the line where it was', () => {
    const s = opened();
    s.dispatch(messageReceived(msg('c1', 11)));
    lineForUnseen(s);
    expect(s.getState().chatView.divider).toEqual({ conversationId: 'c1', seq: 11 });
    s.dispatch(readMarked({ conversationId: 'c1', seq: 11 }));
    s.dispatch(messageReceived(msg('c1', 12)));
    lineForUnseen(s);
    expect(s.getState().chatView.divider?.seq).toBe(11);
  });

  it('my own message arriving is read already: no line', () => {
    const s = opened();
    s.dispatch(messageReceived(msg('c1', 11, alice.id)));
    lineForUnseen(s);
    expect(s.getState().chatView.divider).toBeNull();
  });

  it('the line goes with the conversation', () => {
    const s = opened();
    s.dispatch(messageReceived(msg('c1', 11)));
    lineForUnseen(s);
    s.dispatch(conversationRemoved('c1'));
    expect(s.getState().chatView.divider).toBeNull();
  });
});
