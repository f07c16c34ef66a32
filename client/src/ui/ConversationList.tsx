import { memo, useMemo } from 'react';
import { Virtuoso } from 'react-virtuoso';
import { useConversationsQuery } from '../api/http';
import type { Conversation, UserId } from '../api/types';
import { useAppSelector } from '../app/hooks';
import { usePresence } from '../features/users/usePresence';
import { previewText } from '../features/chat/attachments';
import { conversationTitle, memberNames, tickFor, typingText } from '../features/chat/conversation';
import { selectConversations } from '../features/chat/selectors';
import { selectMentionedIn } from '../features/notifications/notificationsSlice';
import { useNamesOf } from '../features/users/namesSlice';
import { navigate } from '../lib/router';
import { listTime } from '../lib/time';
import { useMutedIds } from '../api/mutes';
import { Avatar } from './Avatar';
import { Ticks } from './chat/Ticks';
import { BellOffIcon } from './icons';
import { Welcome } from './Welcome';

function Preview({ c, myId, active, typing }: { c: Conversation; myId: UserId | null; active: boolean; typing: string | null }) {
  const last = c.lastMessage;
  // A former member is no longer listed in `members`, but their name is still known.
  const formerName = useAppSelector((s) => (last ? s.names[last.senderId] : undefined));
  const listed = !last || last.senderId === myId || c.kind !== 'group' || memberNames(c)[last.senderId] !== undefined;
  useNamesOf(listed ? [] : [last.senderId]);
  if (typing) return <span className={active ? '' : 'text-accent-600 dark:text-accent-400'}>{typing}…</span>;
  if (!last) return <span className="italic">No messages yet</span>;
  const mine = last.senderId === myId;
  const sender = mine ? 'You' : c.kind === 'group' ? (memberNames(c)[last.senderId] ?? formerName ?? 'Someone') : null;
  return (
    <>
      {sender && (
        // A <bdi>: the row's direction is the message's, not the name's (see ConversationRow).
        <span className={active ? '' : 'text-slate-700 dark:text-slate-300'}>
          <bdi>{sender}</bdi>:{' '}
        </span>
      )}
      {last.deletedAt ? <span className="italic">Message deleted</span> : previewText(last)}
    </>
  );
}

export const ConversationRow = memo(function ConversationRow({
  conversation: c,
  active,
  myId,
  typing,
  muted,
}: {
  conversation: Conversation;
  active: boolean;
  myId: UserId | null;
  typing: string | null;
  /** Its messages notify nothing: shown by a crossed bell and a grey unread count. */
  muted: boolean;
}) {
  const last = c.lastMessage;
  const title = conversationTitle(c);
  const presenceOf = usePresence();
  const mentioned = useAppSelector((s) => selectMentionedIn(s, c.id));
  const mine = last !== null && last.senderId === myId;
  return (
    <a
      href={`/c/${c.id}`}
      aria-current={active ? 'page' : undefined}
      data-testid="conversation"
      data-peer={c.kind === 'direct' ? c.peer.username : undefined}
      data-title={title}
      onClick={(e) => {
        e.preventDefault();
        navigate(`/c/${c.id}`);
      }}
      className={`mx-2 flex items-center gap-3 rounded-xl px-2.5 py-2 ${
        active ? 'bg-accent-600 text-white' : 'hover:bg-slate-100 dark:hover:bg-slate-800/70'
      }`}
    >
      {c.kind === 'direct' ? (
        <Avatar id={c.peer.id} name={c.peer.username} online={presenceOf(c.peer).state === 'online'} size="lg" />
      ) : (
        <Avatar id={c.id} name={c.title} size="lg" group />
      )}
      <div className="min-w-0 flex-1">
        <div className="flex items-baseline gap-2">
          {/* A title's direction is its own (a Hebrew group name is cut at its end, as the preview below). */}
          <span dir="auto" className="min-w-0 flex-1 truncate text-left font-semibold">
            {title}
          </span>
          {muted && <BellOffIcon aria-hidden={false} role="img" aria-label="Muted" className={`shrink-0 text-sm ${active ? 'text-white/80' : 'text-slate-400 dark:text-slate-500'}`} />}
          {last && mine && !last.deletedAt && <Ticks tick={tickFor(last.seq, c, myId)} onBubble={active} />}
          {last && (
            <time
              dateTime={last.sentAt}
              className={`shrink-0 text-xs ${active ? 'text-white/80' : c.unread > 0 && !muted ? 'text-accent-600 dark:text-accent-400' : 'text-slate-500 dark:text-slate-400'}`}
            >
              {listTime(last.sentAt)}
            </time>
          )}
        </div>
        <div className="mt-0.5 flex items-center gap-2">
          {/* The direction goes on the box that cuts the text: a right-to-left message inside a
              left-to-right box overflows at its beginning. Left-aligned still, as every row; a
              line too long starts at its start edge whatever the alignment. */}
          <span dir="auto" data-testid="preview" className={`min-w-0 flex-1 truncate text-left text-sm ${active ? 'text-white/85' : 'text-slate-500 dark:text-slate-400'}`}>
            <Preview c={c} myId={myId} active={active} typing={typing} />
          </span>
          {mentioned && (
            // A mention reaches through a mute: never grey.
            <span
              role="img"
              aria-label="mentioned"
              title="You were mentioned"
              data-testid="mention-badge"
              className={`h-5 w-5 shrink-0 rounded-full text-center text-xs leading-5 font-bold ${active ? 'bg-white text-accent-700' : 'bg-accent-600 text-white'}`}
            >
              @
            </span>
          )}
          {c.unread > 0 && (
            <span
              aria-label={`${c.unread} unread`}
              data-testid="unread-badge"
              className={`min-w-5 shrink-0 rounded-full px-1.5 text-center text-xs leading-5 font-semibold ${
                active ? 'bg-white text-accent-700' : muted ? 'bg-slate-400 text-white dark:bg-slate-600' : 'bg-accent-600 text-white'
              }`}
            >
              {c.unread}
            </span>
          )}
        </div>
      </div>
    </a>
  );
});

/** "typing" texts of every conversation where someone types, for the rows. */
function useTypingTexts(list: readonly Conversation[]): Record<string, string> {
  const typing = useAppSelector((s) => s.typing.byConversation);
  const out: Record<string, string> = {};
  for (const c of list) {
    const ids = Object.keys(typing[c.id] ?? {});
    const text = typingText(c, ids, memberNames(c));
    if (text) out[c.id] = text;
  }
  return out;
}

/** Conversations whose title contains `needle` (case-insensitive). */
export function useMatchingConversations(needle: string): Conversation[] {
  const all = useAppSelector(selectConversations);
  return useMemo(() => {
    const n = needle.toLowerCase();
    return n ? all.filter((c) => conversationTitle(c).toLowerCase().includes(n)) : all;
  }, [all, needle]);
}

export function ConversationList({ activeId, onFindPeople }: { activeId: string | null; onFindPeople: () => void }) {
  const { isLoading, isError, refetch } = useConversationsQuery();
  const list = useAppSelector(selectConversations);
  const myId = useAppSelector((s) => s.session.user?.id ?? null);
  const loaded = useAppSelector((s) => s.chat.conversationsLoaded);
  const typing = useTypingTexts(list);
  const muted = useMutedIds();

  if (!loaded && isLoading) return <p className="p-6 text-center text-sm text-slate-500">Loading chats…</p>;
  if (!loaded && isError)
    return (
      <div className="p-6 text-center text-sm text-slate-500">
        <p>Could not load your chats.</p>
        <button type="button" className="mt-2 font-semibold text-accent-600" onClick={() => void refetch()}>
          Try again
        </button>
      </div>
    );
  if (list.length === 0) return <Welcome onFindPeople={onFindPeople} />;
  return (
    <nav aria-label="Chats" className="h-full">
      <Virtuoso
        className="scrollbar-thin"
        data={list}
        computeItemKey={(_, c) => c.id}
        increaseViewportBy={200}
        components={{ Header: () => <div className="h-2" />, Footer: () => <div className="h-2" /> }}
        itemContent={(_, c) => <ConversationRow conversation={c} active={c.id === activeId} myId={myId} typing={typing[c.id] ?? null} muted={muted.has(c.id)} />}
      />
    </nav>
  );
}
