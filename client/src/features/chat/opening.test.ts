import { describe, expect, it } from 'vitest';
import { conversation, msg } from '../../test/fakes';
import { firstUnreadSeq, opening } from './opening';

const items = [3, 4, 5, 6, 7].map((s) => msg('c1', s));

describe('where a conversation opens', () => {
  it('at the first unread message, with the divider above it', () => {
    const c = conversation('c1', 7, { myReadSeq: 4, unread: 3 });
    expect(firstUnreadSeq(c)).toBe(5);
    expect(opening(items, -1, c)).toEqual({ index: 2, align: 'start', unreadFrom: 5 });
  });

  it('at the end when everything is read, or the first unread one is not loaded', () => {
    expect(opening(items, -1, conversation('c1', 7))).toEqual({ index: -1, align: 'start', unreadFrom: null });
    expect(opening(items, -1, conversation('c1', 7, { myReadSeq: 1 }))).toEqual({ index: -1, align: 'start', unreadFrom: 2 });
  });

  it('at a message it was asked to show, whatever is unread', () => {
    expect(opening(items, 1, conversation('c1', 7, { myReadSeq: 4 }))).toEqual({ index: 1, align: 'center', unreadFrom: 5 });
  });
});
