import { useEffect, useId, useRef, useState } from 'react';
import { MAX_SEARCH_CHARS } from '../api/generated/limits';
import { useSignoutMutation } from '../api/http';
import { useUnreadNotMuted } from '../api/mutes';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { browserNotificationsDeps } from '../features/push/browserDeps';
import { turnOff } from '../features/push/browserNotifications';
import { navigate } from '../lib/router';
import { useDebounced } from '../lib/useDebounced';
import { Avatar } from './Avatar';
import { ChangePasswordDialog } from './ChangePasswordDialog';
import { ConversationList } from './ConversationList';
import { NewGroupDialog } from './groups/NewGroupDialog';
import { GroupAddIcon, MoreIcon, SearchIcon, ShieldIcon } from './icons';
import { MenuButton } from './Menu';
import { NotificationsBell } from './NotificationsBell';
import { PeopleList } from './PeopleList';
import { SearchPanel } from './search/SearchPanel';

const headerButton =
  'inline-flex h-10 w-10 items-center justify-center rounded-full text-xl text-slate-500 hover:bg-slate-100 hover:text-slate-800 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-slate-100';

export function Sidebar({ activeId }: { activeId: string | null }) {
  const [tab, setTab] = useState<'chats' | 'people'>('chats');
  const me = useAppSelector((s) => s.session.user);
  const unread = useUnreadNotMuted();
  const [signout, { isLoading: signingOut }] = useSignoutMutation();
  const [changingPassword, setChangingPassword] = useState(false);
  const dispatch = useAppDispatch();

  /** Pushes stop coming to this browser first, while the session still allows saying so. */
  async function signOut() {
    await turnOff(browserNotificationsDeps(dispatch)).catch(() => {});
    await signout();
  }
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim(), 250);
  const searchId = useId();
  const searchInput = useRef<HTMLInputElement>(null);
  // Ctrl+K (⌘K on a Mac), as in Slack and Element: to the search box from anywhere.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        searchInput.current?.focus();
        searchInput.current?.select();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const [newGroup, setNewGroup] = useState(false);
  // Said aloud and shown alike: on Chats the box finds chats, people and messages.
  const searchLabel = tab === 'people' ? 'Search people' : 'Search chats, people and messages';

  const tabClass = (active: boolean) =>
    `relative flex flex-1 items-center justify-center gap-2 py-2.5 text-sm font-medium transition-colors ${
      active
        ? 'text-accent-600 dark:text-accent-400'
        : 'text-slate-500 hover:text-slate-800 dark:text-slate-400 dark:hover:text-slate-200'
    }`;

  return (
    <>
      <header className="relative flex items-center gap-3 px-4 pt-3 pb-2">
        {me && <Avatar id={me.id} name={me.username} size="sm" />}
        <div className="min-w-0 flex-1">
          <p className="truncate text-[15px] font-semibold" data-testid="me">
            {me?.username}
          </p>
          <p className="truncate text-xs text-slate-500 dark:text-slate-400">{me?.email}</p>
        </div>
        <button type="button" aria-label="New group" title="New group" onClick={() => setNewGroup(true)} className={headerButton}>
          <GroupAddIcon />
        </button>
        <NotificationsBell />
        {me?.role === 'admin' && (
          <button type="button" aria-label="Administration" title="Administration" onClick={() => navigate('/admin')} className={headerButton}>
            <ShieldIcon />
          </button>
        )}
        <MenuButton
          label="Account"
          items={[
            { label: 'Change password', onSelect: () => setChangingPassword(true) },
            {
              label: 'Sign out',
              onSelect: () => {
                if (!signingOut) void signOut();
              },
            },
          ]}
          className={headerButton}
        >
          <MoreIcon />
        </MenuButton>
      </header>
      {newGroup && <NewGroupDialog onClose={() => setNewGroup(false)} />}
      {changingPassword && <ChangePasswordDialog onClose={() => setChangingPassword(false)} />}

      <div className="px-3 pb-2">
        <label htmlFor={searchId} className="sr-only">
          {searchLabel}
        </label>
        <div className="relative">
          <SearchIcon className="pointer-events-none absolute top-1/2 left-3 -translate-y-1/2 text-slate-400" />
          <input
            ref={searchInput}
            id={searchId}
            type="search"
            aria-keyshortcuts="Control+K Meta+K"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder={searchLabel}
            maxLength={MAX_SEARCH_CHARS}
            autoComplete="off"
            className="w-full rounded-full border border-transparent bg-slate-100 py-2 pr-3 pl-9 text-sm placeholder:text-slate-500 focus:border-accent-500 focus:bg-white focus:outline-none dark:bg-slate-800/80 dark:placeholder:text-slate-400 dark:focus:bg-slate-900"
          />
        </div>
      </div>

      <div role="tablist" aria-label="Sections" className="flex border-b border-slate-200 dark:border-slate-800">
        {(['chats', 'people'] as const).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls="sidebar-panel"
            className={tabClass(tab === t)}
            onClick={() => setTab(t)}
          >
            {t === 'chats' ? 'Chats' : 'People'}
            {t === 'chats' && unread > 0 && (
              <span className="rounded-full bg-accent-600 px-1.5 text-[11px] leading-[18px] font-semibold text-white">{unread}</span>
            )}
            {tab === t && <span className="absolute inset-x-6 bottom-0 h-0.5 rounded-full bg-accent-600 dark:bg-accent-400" />}
          </button>
        ))}
      </div>

      <div id="sidebar-panel" role="tabpanel" aria-labelledby={`tab-${tab}`} className="min-h-0 flex-1">
        {tab === 'people' ? (
          <PeopleList
            query={query}
            onOpened={() => {
              // The name found is done with: kept, it would turn the chat list into search results.
              setSearch('');
              setTab('chats');
            }}
          />
        ) : query ? (
          <SearchPanel query={query} activeId={activeId} />
        ) : (
          <ConversationList activeId={activeId} onFindPeople={() => setTab('people')} />
        )}
      </div>
    </>
  );
}
