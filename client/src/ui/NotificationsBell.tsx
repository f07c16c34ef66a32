import { useEffect, useId, useRef, useState } from 'react';
import { useMarkNotificationsReadMutation, useNotificationsQuery } from '../api/http';
import type { Notification } from '../api/types';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { allNotificationsRead, notificationsRead } from '../features/notifications/notificationsSlice';
import { groupTitleOf, notificationContext } from '../features/notifications/wording';
import { plainText } from '../lib/markdown';
import { navigate } from '../lib/router';
import { listTime } from '../lib/time';
import { Avatar } from './Avatar';
import { BrowserNotificationsSwitch } from './BrowserNotificationsSwitch';
import { BellIcon } from './icons';

/**
 * The bell: how many notifications are new, and a list of recent ones that can be dismissed.
 * Dismissing is not reading: the chats keep their unread counts, and their senders are not told
 * "read", until the messages are on screen (reading a chat dismisses its notifications too).
 */
export function NotificationsBell() {
  useNotificationsQuery();
  const dispatch = useAppDispatch();
  const items = useAppSelector((s) => s.notifications.items);
  const unread = useAppSelector((s) => s.notifications.unreadCount);
  const conversations = useAppSelector((s) => s.chat.conversations);
  const [markRead] = useMarkNotificationsReadMutation();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    // Keyboard users continue inside the panel: its first enabled button gets focus.
    panel.current?.querySelector<HTMLButtonElement>('button:not([disabled])')?.focus();
    const onDown = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  function dismissAll() {
    dispatch(allNotificationsRead({ at: new Date().toISOString() }));
    void markRead({ all: true });
  }

  function openOne(n: Notification) {
    if (n.readAt === null) {
      dispatch(notificationsRead({ ids: [n.id], at: new Date().toISOString() }));
      void markRead({ ids: [n.id] });
    }
    setOpen(false);
    navigate(`/c/${n.conversationId}`);
  }

  const label = unread > 0 ? `Notifications, ${unread} new` : 'Notifications';

  return (
    // Not `relative`: the panel is placed against the sidebar's header, so it fits on any screen.
    <div ref={root}>
      <button
        ref={button}
        type="button"
        aria-label={label}
        title="Notifications"
        aria-expanded={open}
        aria-controls={panelId}
        data-testid="bell"
        onClick={() => setOpen((v) => !v)}
        className="relative inline-flex h-10 w-10 items-center justify-center rounded-full text-xl text-slate-500 hover:bg-slate-100 hover:text-slate-800 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-slate-100"
      >
        <BellIcon />
        {unread > 0 && (
          <span
            data-testid="bell-count"
            className="absolute top-1 right-1 min-w-[18px] rounded-full bg-rose-500 px-1 text-center text-[11px] leading-[18px] font-semibold text-white ring-2 ring-white dark:ring-slate-950"
          >
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      {open && (
        <div
          id={panelId}
          ref={panel}
          role="dialog"
          aria-label="Notifications"
          className="absolute inset-x-3 top-14 z-30 overflow-hidden rounded-2xl border border-slate-200 bg-white shadow-xl dark:border-slate-700 dark:bg-slate-900"
        >
          <div className="border-b border-slate-200 px-4 py-3 dark:border-slate-800">
            <div className="flex items-center justify-between">
              <h2 className="font-semibold">Notifications</h2>
              <button
                type="button"
                disabled={unread === 0}
                onClick={dismissAll}
                aria-describedby={`${panelId}-hint`}
                className="text-sm font-medium text-accent-600 hover:underline disabled:text-slate-400 disabled:no-underline dark:text-accent-400 dark:disabled:text-slate-600"
              >
                Dismiss all
              </button>
            </div>
            <p id={`${panelId}-hint`} className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
              Chats stay unread until you open them.
            </p>
          </div>
          {items.length === 0 ? (
            <p className="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">You’re all caught up.</p>
          ) : (
            <ul className="max-h-[60vh] overflow-y-auto py-1">
              {items.map((n) => (
                <li key={n.id}>
                  <button
                    type="button"
                    onClick={() => openOne(n)}
                    data-testid="notification"
                    data-read={n.readAt ? 'true' : 'false'}
                    className="flex w-full items-start gap-3 px-4 py-2.5 text-left hover:bg-slate-100 dark:hover:bg-slate-800"
                  >
                    <Avatar id={n.from.id} name={n.from.username} size="sm" />
                    <span className="min-w-0 flex-1">
                      <span className="flex items-baseline gap-2">
                        {/* Two lines, not one: a long name must not cut "mentioned you in …" off. */}
                        <span className={`min-w-0 flex-1 line-clamp-2 text-sm break-words ${n.readAt ? '' : 'font-semibold'}`}>
                          {n.from.username}
                          <span className={n.mentioned ? 'font-medium text-accent-700 dark:text-accent-400' : 'font-normal text-slate-500 dark:text-slate-400'}>
                            {notificationContext(n.mentioned, groupTitleOf(conversations[n.conversationId]))}
                          </span>
                        </span>
                        <time dateTime={n.createdAt} className="shrink-0 text-xs text-slate-500 dark:text-slate-400">
                          {listTime(n.createdAt)}
                        </time>
                      </span>
                      <span dir="auto" className="line-clamp-2 text-sm break-words text-slate-600 dark:text-slate-300">
                        {plainText(n.preview)}
                      </span>
                    </span>
                    {!n.readAt && <span aria-label="new" className="mt-2 h-2.5 w-2.5 shrink-0 rounded-full bg-accent-600" />}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <BrowserNotificationsSwitch />
        </div>
      )}
    </div>
  );
}
