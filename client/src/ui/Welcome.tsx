// What a newcomer sees instead of an empty chat list: people to say hello to (or, when nobody
// else is here yet, how to invite them), and how to start a group.
import { useState } from 'react';
import { useUsersInfiniteQuery } from '../api/http';
import { useAppSelector } from '../app/hooks';
import { usePresence } from '../features/users/usePresence';
import { mergePeople } from '../features/users/usersSlice';
import { Avatar } from './Avatar';
import { NewGroupDialog } from './groups/NewGroupDialog';
import { useOpenDirect } from './useOpenDirect';

/** How many people the first screen suggests. */
const SUGGESTED = 6;

function InviteHint() {
  const [copied, setCopied] = useState(false);
  const address = location.origin;
  return (
    <div className="rounded-2xl bg-slate-100 p-4 text-sm dark:bg-slate-800/70">
      <p className="font-medium">You are the first one here.</p>
      <p className="mt-1 text-slate-600 dark:text-slate-300">Invite people by sending them this address; they sign up and appear here.</p>
      <div className="mt-3 flex items-center gap-2">
        <code className="min-w-0 flex-1 truncate rounded-lg bg-white px-2 py-1.5 dark:bg-slate-900">{address}</code>
        <button
          type="button"
          onClick={() => void navigator.clipboard?.writeText(address).then(() => setCopied(true))}
          className="shrink-0 rounded-lg bg-accent-600 px-3 py-1.5 font-semibold text-white hover:bg-accent-700"
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

export function Welcome({ onFindPeople }: { onFindPeople: () => void }) {
  const me = useAppSelector((s) => s.session.user);
  const users = useAppSelector((s) => s.users);
  const presenceOf = usePresence();
  const { data, isLoading } = useUsersInfiniteQuery({ q: '' });
  const people = mergePeople({ users }, data?.pages ?? []).filter((u) => u.id !== me?.id);
  const { open, busy, error } = useOpenDirect();
  const [newGroup, setNewGroup] = useState(false);

  return (
    <section aria-labelledby="welcome-title" data-testid="welcome" className="scrollbar-thin h-full overflow-y-auto px-4 py-5">
      <h2 id="welcome-title" className="text-lg font-semibold">
        Welcome to GoChat{me ? `, ${me.username}` : ''} 👋
      </h2>
      <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">You have no chats yet. Say hello to someone to start your first one.</p>
      {error && (
        <p role="alert" className="mt-3 rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950/50 dark:text-rose-300">
          {error}
        </p>
      )}
      <div className="mt-4">
        {isLoading ? (
          <p className="text-sm text-slate-500">Looking for people…</p>
        ) : people.length === 0 ? (
          <InviteHint />
        ) : (
          <>
            <h3 className="text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">People you can talk to</h3>
            <ul className="mt-2 space-y-1">
              {people.slice(0, SUGGESTED).map((u) => {
                const presence = presenceOf(u);
                return (
                  <li key={u.id}>
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => void open(u.id)}
                      data-testid="suggested-person"
                      className="flex w-full items-center gap-3 rounded-xl px-2 py-2 text-left hover:bg-slate-100 dark:hover:bg-slate-800/70"
                    >
                      <Avatar id={u.id} name={u.username} online={presence.state === 'online'} />
                      <span className="min-w-0 flex-1">
                        <span className="block truncate font-semibold">{u.username}</span>
                        <span className={`block truncate text-sm ${presence.state === 'online' ? 'text-emerald-600 dark:text-emerald-400' : 'text-slate-500 dark:text-slate-400'}`}>
                          {presence.text}
                        </span>
                      </span>
                      <span className="shrink-0 rounded-full bg-accent-100 px-3 py-1 text-sm font-semibold text-accent-700 dark:bg-accent-700/40 dark:text-accent-100">
                        Say hi
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
            {people.length > SUGGESTED && (
              <button type="button" onClick={onFindPeople} className="mt-2 text-sm font-semibold text-accent-600 hover:underline dark:text-accent-400">
                See everyone
              </button>
            )}
          </>
        )}
      </div>
      {people.length > 0 && (
        <div className="mt-6 rounded-2xl border border-dashed border-slate-300 p-4 text-sm dark:border-slate-700">
          <p className="font-medium">Talking with several people?</p>
          <p className="mt-1 text-slate-600 dark:text-slate-300">A group keeps everyone in one conversation.</p>
          <button type="button" onClick={() => setNewGroup(true)} className="mt-3 rounded-lg bg-accent-600 px-3 py-1.5 font-semibold text-white hover:bg-accent-700">
            Create a group
          </button>
        </div>
      )}
      {newGroup && <NewGroupDialog onClose={() => setNewGroup(false)} />}
    </section>
  );
}
