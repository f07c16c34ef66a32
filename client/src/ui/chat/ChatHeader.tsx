// The open chat's header: who (peer with presence, or group with its members), who is typing,
// and the user's menu (direct) or the group's info (group).
import { shallowEqual } from 'react-redux';
import { useMuteToggle } from '../../api/mutes';
import type { Conversation, ConversationId } from '../../api/types';
import { useAppSelector } from '../../app/hooks';
import { memberNames, namesList, typingText } from '../../features/chat/conversation';
import { selectTypingUsers } from '../../features/chat/typingSlice';
import { usePresence } from '../../features/users/usePresence';
import { navigate } from '../../lib/router';
import { counted } from '../../lib/sentence';
import { Avatar } from '../Avatar';
import { BackIcon, BellIcon, BellOffIcon, InfoIcon } from '../icons';
import { UserMenu } from '../UserMenu';

const iconButton =
  'inline-flex h-10 w-10 items-center justify-center rounded-full text-xl text-slate-500 hover:bg-slate-100 hover:text-slate-800 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-slate-100';

function TypingDots({ text }: { text: string }) {
  return (
    <span className="inline-flex items-center gap-1 text-accent-600 dark:text-accent-400">
      {text}
      <span className="inline-flex gap-0.5" aria-hidden="true">
        <span className="typing-dot h-1 w-1 rounded-full bg-current" />
        <span className="typing-dot h-1 w-1 rounded-full bg-current" />
        <span className="typing-dot h-1 w-1 rounded-full bg-current" />
      </span>
    </span>
  );
}

/** Mutes the conversation's notifications (bell, browser, push); pressed while muted. */
function MuteButton({ id }: { id: ConversationId }) {
  const { muted, toggle } = useMuteToggle(id);
  const label = muted ? 'Unmute notifications' : 'Mute notifications';
  return (
    <button type="button" aria-label="Mute notifications" aria-pressed={muted} title={label} onClick={() => void toggle()} className={iconButton}>
      {muted ? <BellOffIcon /> : <BellIcon />}
    </button>
  );
}

export function ChatHeader({
  conversation,
  infoOpen,
  onToggleInfo,
}: {
  conversation: Conversation | undefined;
  infoOpen: boolean;
  onToggleInfo: () => void;
}) {
  const me = useAppSelector((s) => s.session.user);
  const presenceOf = usePresence();
  const typingIds = useAppSelector((s) => (conversation ? selectTypingUsers(s, conversation.id) : []), shallowEqual);
  const names = memberNames(conversation);
  const typing = typingText(conversation, typingIds, names);

  let title = '…';
  let status: React.ReactNode = '';
  let avatar: React.ReactNode = null;
  if (conversation?.kind === 'direct') {
    const peer = conversation.peer;
    title = peer.username;
    const presence = presenceOf(peer);
    avatar = <Avatar id={peer.id} name={peer.username} online={presence.state === 'online'} size="sm" />;
    status = presence.state === 'online' ? <span className="text-emerald-600 dark:text-emerald-400">online</span> : presence.text;
  } else if (conversation?.kind === 'group') {
    title = conversation.title;
    avatar = <Avatar id={conversation.id} name={conversation.title} size="sm" group />;
    const others = conversation.members.filter((m) => m.id !== me?.id).map((m) => m.username);
    status = `${counted(conversation.members.length, 'member')}: ${namesList(['you', ...others], 4)}`;
  }
  if (typing) status = <TypingDots text={typing} />;

  return (
    <header className="flex items-center gap-3 border-b border-slate-200 bg-white/90 px-2 py-2 backdrop-blur md:px-4 dark:border-slate-800 dark:bg-slate-900/90">
      <button type="button" aria-label="Back to chats" onClick={() => navigate('/')} className={`${iconButton} text-2xl md:hidden`}>
        <BackIcon />
      </button>
      {avatar}
      <div
        className={`min-w-0 flex-1 ${conversation?.kind === 'group' ? 'cursor-pointer' : ''}`}
        onClick={conversation?.kind === 'group' ? onToggleInfo : undefined}
      >
        <h2 dir="auto" className="truncate text-left font-semibold" data-testid="chat-title">
          {title}
        </h2>
        <p className="truncate text-xs text-slate-500 dark:text-slate-400" aria-live="polite" data-testid="chat-status">
          {status}
        </p>
      </div>
      {conversation && <MuteButton id={conversation.id} />}
      {conversation?.kind === 'direct' && <UserMenu user={conversation.peer} />}
      {conversation?.kind === 'group' && (
        <button type="button" aria-label="Group info" title="Group info" aria-expanded={infoOpen} onClick={onToggleInfo} className={iconButton}>
          <InfoIcon />
        </button>
      )}
    </header>
  );
}
