// Picking people for a group: a search by name, everyone as a checkbox, the chosen ones as chips.
import { useId, useMemo, useState } from 'react';
import { useUsersInfiniteQuery } from '../../api/http';
import type { UserId, UserSummary } from '../../api/types';
import { useAppSelector } from '../../app/hooks';
import { usePresence } from '../../features/users/usePresence';
import { mergePeople } from '../../features/users/usersSlice';
import { useDebounced } from '../../lib/useDebounced';
import { Avatar } from '../Avatar';
import { CloseIcon, SearchIcon } from '../icons';

export function MemberPicker({
  selected,
  onChange,
  exclude,
}: {
  selected: UserSummary[];
  onChange: (next: UserSummary[]) => void;
  /** People who cannot be picked (already members); I and accounts known to be disabled are never offered. */
  exclude?: ReadonlySet<UserId>;
}) {
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim(), 200);
  const { data, isLoading, isError, hasNextPage, isFetchingNextPage, fetchNextPage } = useUsersInfiniteQuery({ q }, { refetchOnMountOrArgChange: true });
  const users = useAppSelector((s) => s.users);
  const presenceOf = usePresence();
  const me = useAppSelector((s) => s.session.user?.id);
  const searchId = useId();
  const people = useMemo(
    () => mergePeople({ users }, data?.pages ?? [], q).filter((u) => u.id !== me && !exclude?.has(u.id) && !users.disabled[u.id]),
    [users, data, q, me, exclude],
  );
  const chosen = new Set(selected.map((u) => u.id));
  const toggle = (u: UserSummary) => onChange(chosen.has(u.id) ? selected.filter((x) => x.id !== u.id) : [...selected, u]);

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      {selected.length > 0 && (
        <ul aria-label="Chosen people" className="flex max-h-24 shrink-0 flex-wrap gap-1.5 overflow-y-auto px-5 pb-2">
          {selected.map((u) => (
            <li key={u.id} className="inline-flex items-center gap-1 rounded-full bg-accent-100 py-0.5 pr-1 pl-1 text-sm text-accent-700 dark:bg-accent-700/40 dark:text-accent-100">
              <Avatar id={u.id} name={u.username} size="xs" />
              <span className="max-w-32 truncate">{u.username}</span>
              <button
                type="button"
                aria-label={`Remove ${u.username}`}
                onClick={() => toggle(u)}
                className="inline-flex h-6 w-6 items-center justify-center rounded-full hover:bg-accent-600/20"
              >
                <CloseIcon />
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="px-5 pb-2">
        <label htmlFor={searchId} className="sr-only">
          Find people
        </label>
        <div className="relative">
          <SearchIcon className="pointer-events-none absolute top-1/2 left-3 -translate-y-1/2 text-slate-400" />
          <input
            id={searchId}
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="Find people"
            autoComplete="off"
            className="w-full rounded-full border border-transparent bg-slate-100 py-2 pr-3 pl-9 text-sm placeholder:text-slate-500 focus:border-accent-500 focus:bg-white focus:outline-none dark:bg-slate-800/80 dark:placeholder:text-slate-400 dark:focus:bg-slate-900"
          />
        </div>
      </div>
      {/* Not a <fieldset>: Chromium does not shrink one in a flex column, so the rows ran under the dialog's footer. */}
      <div role="group" aria-label="People" className="min-h-40 flex-1 overflow-y-auto px-3 pb-2">
        {isLoading && <p className="p-4 text-center text-sm text-slate-500">Loading people…</p>}
        {isError && people.length === 0 && <p className="p-4 text-center text-sm text-rose-600">Could not load people.</p>}
        {!isLoading && !isError && people.length === 0 && (
          <p className="p-4 text-center text-sm text-slate-500 dark:text-slate-400">{q ? `Nobody’s username starts with “${q}”.` : 'Nobody else is here yet.'}</p>
        )}
        {people.map((u) => (
          <label
            key={u.id}
            data-testid="pick-person"
            data-username={u.username}
            className="flex cursor-pointer items-center gap-3 rounded-xl px-2 py-1.5 hover:bg-slate-100 dark:hover:bg-slate-800"
          >
            <input type="checkbox" checked={chosen.has(u.id)} onChange={() => toggle(u)} className="h-4.5 w-4.5 accent-accent-600" />
            <Avatar id={u.id} name={u.username} online={presenceOf(u).state === 'online'} size="sm" />
            <span className="min-w-0 flex-1 truncate font-medium">{u.username}</span>
          </label>
        ))}
        {hasNextPage && (
          <button
            type="button"
            disabled={isFetchingNextPage}
            onClick={() => void fetchNextPage()}
            className="mt-1 w-full rounded-lg py-2 text-sm font-medium text-accent-600 hover:bg-slate-100 dark:text-accent-400 dark:hover:bg-slate-800"
          >
            {isFetchingNextPage ? 'Loading…' : 'More people'}
          </button>
        )}
      </div>
    </div>
  );
}
