// The message a reply answers, shown inside the reply's bubble; a click brings it into view.
import { memo } from 'react';
import { useMessageAtQuery } from '../../api/history';
import type { ConversationId, Message } from '../../api/types';
import { useAppDispatch } from '../../app/hooks';
import { previewText } from '../../features/chat/attachments';
import { messageFocused } from '../../features/chat/viewSlice';

export const ReplyQuote = memo(function ReplyQuote({
  conversationId,
  seq,
  loaded,
  senderName,
  onBubble,
}: {
  conversationId: ConversationId;
  seq: number;
  /** The quoted message when it is in the loaded window (else it is fetched on its own). */
  loaded: Message | undefined;
  senderName: (m: Message) => string;
  onBubble: boolean;
}) {
  const dispatch = useAppDispatch();
  const { data: fetched, isError } = useMessageAtQuery({ conversationId, seq }, { skip: loaded !== undefined });
  const quoted = loaded ?? fetched ?? undefined;
  const text = quoted ? (quoted.deletedAt ? 'Message deleted' : previewText(quoted)) : isError || fetched === null ? 'Message not available' : '…';
  const who = quoted ? senderName(quoted) : '';
  return (
    <button
      type="button"
      data-testid="reply-quote"
      onClick={() => dispatch(messageFocused({ conversationId, seq }))}
      aria-label={`Replying to ${who || 'a message'}: ${text}. Show that message`}
      className={`mb-1 block w-full min-w-0 rounded-lg border-l-4 px-2 py-1 text-left text-sm ${
        onBubble ? 'border-white/70 bg-white/15 hover:bg-white/25' : 'border-accent-500 bg-accent-50 hover:bg-accent-100 dark:bg-slate-700/60 dark:hover:bg-slate-700'
      }`}
    >
      {who && <span className={`block truncate text-xs font-semibold ${onBubble ? 'text-white' : 'text-accent-700 dark:text-accent-300'}`}>{who}</span>}
      <span dir="auto" className={`line-clamp-2 break-words ${quoted?.deletedAt ? 'italic' : ''} ${onBubble ? 'text-white/85' : 'text-slate-600 dark:text-slate-300'}`}>
        {text}
      </span>
    </button>
  );
});
