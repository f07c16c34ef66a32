// People whose username starts with the search, beside the chats and messages found: someone
// you have not talked to yet is found from the same box. Those you have a direct chat with are
// already under "Chats".
import { useCallback, useMemo } from 'react';
import { MAX_USERNAME_CHARS } from '../../api/generated/limits';
import { useUsersInfiniteQuery } from '../../api/http';
import type { UserSummary } from '../../api/types';
import { useAppSelector } from '../../app/hooks';
import { usePresence } from '../../features/users/usePresence';
import { PersonRow, useMinuteTick } from '../PeopleList';
import { useOpenDirect } from '../useOpenDirect';

const SHOWN = 5;
/** What a username can start with: the search words that cannot are not asked for. */
const USERNAME_PREFIX = new RegExp(`^[A-Za-z0-9_.-]{1,${MAX_USERNAME_CHARS}}$`);

export function PeopleFound({ query }: { query: string }) {
  const { data } = useUsersInfiniteQuery({ q: query, limit: SHOWN + 1 }, { skip: !USERNAME_PREFIX.test(query) });
  const me = useAppSelector((s) => s.session.user?.id);
  const conversations = useAppSelector((s) => s.chat.conversations);
  const { open: openDirect, busy, error } = useOpenDirect();
  const now = useMinuteTick();
  const presenceOf = usePresence();
  const open = useCallback((u: UserSummary) => void openDirect(u.id), [openDirect]);
  const people = useMemo(() => {
    const talkedTo = new Set(Object.values(conversations).flatMap((c) => (c.kind === 'direct' ? [c.peer.id] : [])));
    return (data?.pages[0]?.users ?? []).filter((u) => u.id !== me && !talkedTo.has(u.id)).slice(0, SHOWN);
  }, [data, me, conversations]);
  if (people.length === 0) return null;
  return (
    <section aria-label="People found">
      <h3 className="px-5 pt-3 pb-1 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">People</h3>
      {error && (
        <p role="alert" className="mx-3 my-1 rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950/50 dark:text-rose-300">
          {error}
        </p>
      )}
      {people.map((u) => (
        <PersonRow key={u.id} user={u} isMe={false} busy={busy} now={now} presenceOf={presenceOf} onOpen={open} />
      ))}
    </section>
  );
}
