// Where a conversation with unread messages opens: at the first message someone else wrote after
// my read watermark, under a "New messages" line (as Slack, Element or Telegram do, so nothing is
// skipped). The line is the chat view's (viewSlice); this decides where it goes.
import type { ThunkAction, UnknownAction } from '@reduxjs/toolkit';
import type { Conversation, ConversationId, Message, UserId } from '../../api/types';
import type { ChatState } from './chatSlice';
import { lowerBound } from './timeline';
import { conversationEntered, type ChatViewState } from './viewSlice';

/**
 * The seq of the first message after my read watermark that someone else wrote, or null when
 * there is none. My own messages are never unread: sending reads up to them, but this tab may
 * hold them before it hears so. A message not loaded counts as someone else's (its sender is not
 * known here), so a conversation opened the first time lands at `myReadSeq + 1`.
 */
export function firstUnreadSeq(c: Conversation, items: readonly Message[], myId: UserId | null): number | null {
  let seq = c.myReadSeq + 1;
  for (let i = lowerBound(items, seq); seq <= c.lastSeq; i++, seq++) {
    const m = items[i];
    if (m?.seq !== seq || m.senderId !== myId) return seq;
  }
  return null;
}

/**
 * The chat view opened `conversationId` afresh: it opens at its first unread message, under the
 * line, or at the newest with no line when nothing is unread (or the conversation is not known).
 */
export const enterConversation =
  (conversationId: ConversationId): ThunkAction<void, { chat: ChatState; chatView: ChatViewState }, unknown, UnknownAction> =>
  (dispatch, getState) => {
    const { chat } = getState();
    const c = chat.conversations[conversationId];
    const firstUnread = c ? firstUnreadSeq(c, chat.messages[conversationId]?.items ?? [], chat.myId) : null;
    dispatch(conversationEntered({ conversationId, firstUnread }));
  };
