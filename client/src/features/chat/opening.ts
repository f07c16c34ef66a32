// Where a conversation's list opens: at a message it was asked to show (a search result, a
// quote), else at the first message I have not read (under a "New messages" divider), else at
// its newest message. Opening at the newest one skipped everything unread and, being "seen",
// marked all of it read.
import type { Conversation, Message } from '../../api/types';
import { lowerBound } from './timeline';

export interface Opening {
  /** Index in `items` to open at, or -1 for the end. */
  index: number;
  align: 'center' | 'start';
  /** The first unread message when the list opened: the "New messages" divider goes above it. */
  unreadFrom: number | null;
}

/** The seq of the first message I have not read, if any. */
export function firstUnreadSeq(c: Conversation | undefined): number | null {
  return c && c.lastSeq > c.myReadSeq ? c.myReadSeq + 1 : null;
}

export function opening(items: readonly Message[], focusIndex: number, conversation: Conversation | undefined): Opening {
  const unreadFrom = firstUnreadSeq(conversation);
  if (focusIndex >= 0) return { index: focusIndex, align: 'center', unreadFrom };
  if (unreadFrom === null) return { index: -1, align: 'start', unreadFrom };
  const at = lowerBound(items, unreadFrom);
  // Not loaded (an older window): open at the end, as before.
  return { index: items[at]?.seq === unreadFrom ? at : -1, align: 'start', unreadFrom };
}
