import { memo } from 'react';
import { Virtuoso } from 'react-virtuoso';
import { useConversationsQuery } from '../api/http';
import type { Conversation } from '../api/types';
import { useAppSelector } from '../app/hooks';
import { selectConversations, tickFor } from '../features/chat/selectors';
import { navigate } from '../lib/router';
import { listTime } from '../lib/time';
import { Avatar } from './Avatar';
import { Ticks } from './Ticks';

const Row = memo(function Row({
  conversation: c,
  active,
  mine,
  typing,
}: {
  conversation: Conversation;
  active: boolean;
  mine: boolean;
  typing: boolean;
}) {
  const last = c.lastMessage;
  return (
    <a
      href={`/c/${c.id}`}
      aria-current={active ? 'page' : undefined}
      data-testid="conversation"
      data-peer={c.peer.username}
      onClick={(e) => {
        e.preventDefault();
        navigate(`/c/${c.id}`);
      }}
      className={`mx-2 flex items-center gap-3 rounded-xl px-2.5 py-2 ${
        active ? 'bg-accent-600 text-white' : 'hover:bg-slate-100 dark:hover:bg-slate-800/70'
      }`}
    >
      <Avatar id={c.peer.id} name={c.peer.username} online={c.peer.online} size="lg" />
      <div className="min-w-0 flex-1">
        <div className="flex items-baseline gap-2">
          <span className="min-w-0 flex-1 truncate font-semibold">{c.peer.username}</span>
          {last && mine && <Ticks tick={tickFor(last.seq, c)} onBubble={active} />}
          {last && (
            <time
              dateTime={last.sentAt}
              className={`shrink-0 text-xs ${active ? 'text-white/80' : c.unread > 0 ? 'text-accent-600 dark:text-accent-400' : 'text-slate-500 dark:text-slate-400'}`}
            >
              {listTime(last.sentAt)}
            </time>
          )}
        </div>
        <div className="mt-0.5 flex items-center gap-2">
          <span className={`min-w-0 flex-1 truncate text-sm ${active ? 'text-white/85' : 'text-slate-500 dark:text-slate-400'}`}>
            {typing ? (
              <span className={active ? '' : 'text-accent-600 dark:text-accent-400'}>typing…</span>
            ) : last ? (
              <>
                {mine && <span className={active ? '' : 'text-slate-700 dark:text-slate-300'}>You: </span>}
                {last.body}
              </>
            ) : (
              <span className="italic">No messages yet</span>
            )}
          </span>
          {c.unread > 0 && (
            <span
              aria-label={`${c.unread} unread`}
              data-testid="unread-badge"
              className={`min-w-5 shrink-0 rounded-full px-1.5 text-center text-xs leading-5 font-semibold ${
                active ? 'bg-white text-accent-700' : 'bg-accent-600 text-white'
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

export function ConversationList({ filter, activeId }: { filter: string; activeId: string | null }) {
  const { isLoading, isError, refetch } = useConversationsQuery();
  const all = useAppSelector(selectConversations);
  const me = useAppSelector((s) => s.session.user?.id);
  const typing = useAppSelector((s) => s.chat.typing);
  const loaded = useAppSelector((s) => s.chat.conversationsLoaded);
  const needle = filter.toLowerCase();
  const list = needle ? all.filter((c) => c.peer.username.toLowerCase().includes(needle)) : all;

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
  if (list.length === 0)
    return (
      <p className="p-6 text-center text-sm text-slate-500 dark:text-slate-400">
        {needle ? 'No chats match your search.' : 'No chats yet. Open People to start one.'}
      </p>
    );
  return (
    <nav aria-label="Chats" className="h-full">
      <Virtuoso
        className="scrollbar-thin"
        data={list}
        computeItemKey={(_, c) => c.id}
        increaseViewportBy={200}
        components={{ Header: () => <div className="h-2" />, Footer: () => <div className="h-2" /> }}
        itemContent={(_, c) => (
          <Row
            conversation={c}
            active={c.id === activeId}
            mine={c.lastMessage?.senderId === me}
            typing={typing[c.id] !== undefined}
          />
        )}
      />
    </nav>
  );
}
