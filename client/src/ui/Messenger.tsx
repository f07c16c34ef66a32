// The signed-in app: sidebar (chats, people, search) and the open conversation; one pane at a time on a phone.
import { useEffect } from 'react';
import { useUnreadNotMuted } from '../api/mutes';
import { useAppSelector } from '../app/hooks';
import type { Route } from '../lib/router';
import { ChatView } from './chat/ChatView';
import { ConnectionBanner } from './ConnectionBanner';
import { Notices } from './Notices';
import { Sidebar } from './Sidebar';
import { ChatIcon } from './icons';

function useUnreadTitle() {
  const unread = useUnreadNotMuted();
  const notifications = useAppSelector((s) => s.notifications.unreadCount);
  const total = Math.max(unread, notifications);
  useEffect(() => {
    document.title = total > 0 ? `(${total}) GoChat` : 'GoChat';
  }, [total]);
  useEffect(() => () => void (document.title = 'GoChat'), []);
}

function EmptyPane() {
  const newcomer = useAppSelector((s) => s.chat.conversationsLoaded && Object.keys(s.chat.conversations).length === 0);
  return (
    <div className="chat-wallpaper hidden h-full flex-1 flex-col items-center justify-center gap-3 text-center md:flex">
      <span className="inline-flex h-16 w-16 items-center justify-center rounded-full bg-white/70 text-3xl text-accent-600 shadow-sm dark:bg-slate-800/70 dark:text-accent-400">
        <ChatIcon />
      </span>
      <p className="text-lg font-medium text-slate-700 dark:text-slate-200">{newcomer ? 'Your chats will appear here' : 'Select a chat to start messaging'}</p>
      <p className="max-w-xs text-sm text-slate-500 dark:text-slate-400">
        {newcomer ? 'Say hi to someone on the left, or create a group with “New group”.' : 'Pick a conversation, or find someone under People.'}
      </p>
    </div>
  );
}

export function Messenger({ route }: { route: Route }) {
  useUnreadTitle();
  const conversationId = route.name === 'conversation' ? route.id : null;
  return (
    <div className="flex h-full flex-col">
      <ConnectionBanner />
      <div className="flex min-h-0 flex-1">
        <div
          className={`${conversationId ? 'hidden md:flex' : 'flex'} w-full min-w-0 flex-col border-r border-slate-200 md:w-[340px] lg:w-[380px] dark:border-slate-800`}
        >
          <Sidebar activeId={conversationId} />
        </div>
        {conversationId ? <ChatView key={conversationId} conversationId={conversationId} /> : <EmptyPane />}
      </div>
      <Notices />
    </div>
  );
}
