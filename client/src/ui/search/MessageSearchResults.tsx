// Messages found by the sidebar's search, newest first; each opens its conversation at that
// message (loading the history around it) and highlights it there.
import { memo } from 'react';
import { errorText } from '../../api/http';
import { useSearchMessagesInfiniteQuery } from '../../api/search';
import type { Conversation, SearchResult } from '../../api/types';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { conversationTitle } from '../../features/chat/conversation';
import { messageFocused } from '../../features/chat/viewSlice';
import { selectKnownNames, senderNames, useNamesOf } from '../../features/users/namesSlice';
import { highlight } from '../../lib/highlight';
import { plainText } from '../../lib/markdown';
import { navigate } from '../../lib/router';
import { listTime } from '../../lib/time';
import { Avatar } from '../Avatar';

const Snippet = memo(function Snippet({ text, query }: { text: string; query: string }) {
  return (
    <>
      {highlight(plainText(text), query).map((p, i) =>
        p.match ? (
          <mark key={i} className="rounded-sm bg-amber-200/80 px-0.5 text-inherit dark:bg-amber-400/30">
            {p.text}
          </mark>
        ) : (
          <span key={i}>{p.text}</span>
        ),
      )}
    </>
  );
});

function Result({ result, conversation, query, myId }: { result: SearchResult; conversation: Conversation | undefined; query: string; myId: string | null }) {
  const dispatch = useAppDispatch();
  const m = result.message;
  const names = senderNames(useAppSelector(selectKnownNames), conversation);
  useNamesOf(m.senderId === myId ? [] : [m.senderId]);
  const sender = m.senderId === myId ? 'You' : (names[m.senderId] ?? 'Someone');
  const title = conversation ? conversationTitle(conversation) : 'Conversation';
  const group = conversation?.kind === 'group';
  return (
    <li>
      <button
        type="button"
        data-testid="search-result"
        data-seq={m.seq}
        onClick={() => {
          dispatch(messageFocused({ conversationId: m.conversationId, seq: m.seq }));
          navigate(`/c/${m.conversationId}`);
        }}
        className="mx-2 flex w-[calc(100%-1rem)] items-start gap-3 rounded-xl px-2.5 py-2 text-left hover:bg-slate-100 dark:hover:bg-slate-800/70"
      >
        {conversation?.kind === 'direct' ? (
          <Avatar id={conversation.peer.id} name={conversation.peer.username} size="md" />
        ) : (
          <Avatar id={m.conversationId} name={title} size="md" group />
        )}
        <span className="min-w-0 flex-1">
          <span className="flex items-baseline gap-2">
            <span className="min-w-0 flex-1 truncate font-semibold">{title}</span>
            <time dateTime={m.sentAt} className="shrink-0 text-xs text-slate-500 dark:text-slate-400">
              {listTime(m.sentAt)}
            </time>
          </span>
          <span className="line-clamp-2 text-sm break-words text-slate-600 dark:text-slate-300">
            {(group || m.senderId === myId) && <span className="text-slate-800 dark:text-slate-200">{sender}: </span>}
            <span dir="auto">
              <Snippet text={result.snippet} query={query} />
            </span>
          </span>
        </span>
      </button>
    </li>
  );
}

export function MessageSearchResults({ query }: { query: string }) {
  const { data, isLoading, isFetching, isError, error, hasNextPage, isFetchingNextPage, fetchNextPage } = useSearchMessagesInfiniteQuery({ q: query });
  const conversations = useAppSelector((s) => s.chat.conversations);
  const myId = useAppSelector((s) => s.session.user?.id ?? null);
  const results = data?.pages.flatMap((p) => p.results) ?? [];

  return (
    <section aria-label="Messages found" aria-busy={isFetching}>
      <h3 className="px-5 pt-3 pb-1 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">Messages</h3>
      {isLoading ? (
        <p className="px-5 py-3 text-sm text-slate-500 dark:text-slate-400">Searching…</p>
      ) : isError && results.length === 0 ? (
        <p role="alert" className="px-5 py-3 text-sm text-rose-600 dark:text-rose-400">
          {errorText(error)}
        </p>
      ) : results.length === 0 ? (
        <p className="px-5 py-3 text-sm text-slate-500 dark:text-slate-400">No messages found.</p>
      ) : (
        <ul>
          {results.map((r) => (
            <Result key={r.message.id} result={r} conversation={conversations[r.message.conversationId]} query={query} myId={myId} />
          ))}
        </ul>
      )}
      {hasNextPage && (
        <button
          type="button"
          disabled={isFetchingNextPage}
          onClick={() => void fetchNextPage()}
          className="mx-auto my-2 block rounded-lg px-4 py-2 text-sm font-medium text-accent-600 hover:bg-slate-100 dark:text-accent-400 dark:hover:bg-slate-800"
        >
          {isFetchingNextPage ? 'Loading…' : 'More results'}
        </button>
      )}
    </section>
  );
}
