// The "New messages" line above the first message the reader had not seen, and what places it
// while the conversation is open (where it opens is decided as it opens: features/chat/unread.ts).
import { useEffect } from 'react';
import type { Conversation, ConversationId, Message, UserId } from '../../api/types';
import { useAppDispatch } from '../../app/hooks';
import { firstUnreadSeq } from '../../features/chat/unread';
import { dividerPlaced } from '../../features/chat/viewSlice';

export function NewMessagesLine() {
  return (
    <div
      role="separator"
      aria-label="New messages"
      data-testid="new-messages-line"
      className="flex items-center gap-3 px-3 pt-3 pb-1 text-xs font-semibold text-rose-600 md:px-[5%] lg:px-[8%] dark:text-rose-400"
    >
      <span aria-hidden="true" className="h-px flex-1 bg-rose-500/60" />
      New messages
      <span aria-hidden="true" className="h-px flex-1 bg-rose-500/60" />
    </div>
  );
}

/**
 * Places the line above the first message someone else wrote that arrived while the reader did
 * not follow the list (`following` false: tab hidden, scrolled up, or a window that stops short of
 * the newest). Followed at the bottom, messages are read as they come and get no line. A line
 * already there stays where it is; none is placed while the list is still opening (it opened
 * with its line, or with nothing unread).
 */
export function useLineForUnseen(
  conversationId: ConversationId,
  conversation: Conversation | undefined,
  items: readonly Message[],
  myId: UserId | null,
  { hasLine, following, opening }: { hasLine: boolean; following: boolean; opening: boolean },
): void {
  const dispatch = useAppDispatch();
  useEffect(() => {
    if (hasLine || following || opening || !conversation) return;
    const seq = firstUnreadSeq(conversation, items, myId);
    if (seq !== null) dispatch(dividerPlaced({ conversationId, seq }));
  }, [dispatch, conversationId, conversation, items, myId, hasLine, following, opening]);
}
