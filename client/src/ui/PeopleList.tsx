import { memo, useCallback, useEffect, useMemo, useState } from 'react';
import { Virtuoso } from 'react-virtuoso';
import { errorText, useUsersInfiniteQuery } from '../api/http';
import type { UserSummary } from '../api/types';
import { useAppSelector } from '../app/hooks';
import { usePresence, type PresenceOf } from '../features/users/usePresence';
import { mergePeople } from '../features/users/usersSlice';
import { Avatar } from './Avatar';
import { useOpenDirect } from './useOpenDirect';

export function useMinuteTick(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);
  return now;
}

export const PersonRow = memo(function PersonRow({
  user,
  isMe,
  busy,
  now,
  presenceOf,
  onOpen,
}: {
  user: UserSummary;
  isMe: boolean;
  busy: boolean;
  now: number;
  /** What a user's presence shows (usePresence). */
  presenceOf: PresenceOf;
  onOpen: (u: UserSummary) => void;
}) {
  const presence = presenceOf(user, now);
  return (
    <button
      type="button"
      data-testid="person"
      data-username={user.username}
      data-online={presence.state === 'unknown' ? 'unknown' : String(presence.state === 'online')}
      disabled={isMe || busy}
      onClick={() => onOpen(user)}
      aria-label={`${user.username}${isMe ? ' (you)' : ''}, ${presence.text}`}
      className="mx-2 flex w-[calc(100%-1rem)] items-center gap-3 rounded-xl px-2.5 py-2 text-left hover:bg-slate-100 disabled:cursor-default disabled:hover:bg-transparent dark:hover:bg-slate-800/70"
    >
      <Avatar id={user.id} name={user.username} online={presence.state === 'online'} />
      <span className="min-w-0 flex-1">
        <span className="block truncate font-semibold">
          {user.username}
          {isMe && <span className="ml-1.5 text-xs font-normal text-slate-500 dark:text-slate-400">(you)</span>}
        </span>
        <span className={`block truncate text-sm ${presence.state === 'online' ? 'text-emerald-600 dark:text-emerald-400' : 'text-slate-500 dark:text-slate-400'}`}>
          {presence.text}
        </span>
      </span>
    </button>
  );
});

/** Everyone on the server, online first, searchable by prefix, loaded page by page as you scroll. */
export function PeopleList({ query, onOpened }: { query: string; onOpened: () => void }) {
  const { data, isLoading, isError, error, hasNextPage, isFetchingNextPage, fetchNextPage, refetch } = useUsersInfiniteQuery({ q: query }, { refetchOnMountOrArgChange: true });
  const users = useAppSelector((s) => s.users);
  const me = useAppSelector((s) => s.session.user?.id);
  const { open: openDirect, busy: creating, error: openError } = useOpenDirect(onOpened);
  const now = useMinuteTick();
  const presenceOf = usePresence();
  const people = useMemo(() => mergePeople({ users }, data?.pages ?? [], query), [users, data, query]);
  const open = useCallback((user: UserSummary) => void openDirect(user.id), [openDirect]);

  if (isLoading) return <p className="p-6 text-center text-sm text-slate-500">Loading people…</p>;
  if (isError && people.length === 0)
    return (
      <div className="p-6 text-center text-sm text-slate-500">
        <p>{errorText(error)}</p>
        <button type="button" className="mt-2 font-semibold text-accent-600" onClick={() => void refetch()}>
          Try again
        </button>
      </div>
    );
  if (people.length === 0)
    return <p className="p-6 text-center text-sm text-slate-500 dark:text-slate-400">{query ? `Nobody’s username starts with “${query}”.` : 'Nobody here yet.'}</p>;

  return (
    <div className="flex h-full flex-col">
      {openError && (
        <p role="alert" className="mx-3 mt-2 rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950/50 dark:text-rose-300">
          {openError}
        </p>
      )}
      <section aria-label="People" className="min-h-0 flex-1">
        <Virtuoso
          className="scrollbar-thin"
          data={people}
          computeItemKey={(_, u) => u.id}
          increaseViewportBy={300}
          endReached={() => {
            if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
          }}
          components={{
            Header: () => <div className="h-2" />,
            Footer: () =>
              isFetchingNextPage ? <p className="py-3 text-center text-xs text-slate-500">Loading more…</p> : <div className="h-2" />,
          }}
          itemContent={(_, u) => <PersonRow user={u} isMe={u.id === me} busy={creating} now={now} presenceOf={presenceOf} onOpen={open} />}
        />
      </section>
    </div>
  );
}
