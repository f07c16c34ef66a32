// One conversation: its header, its history (loaded the first time it opens: the newest page,
// or the history around a message it was opened at), the composer, and a group's info panel.
import { useEffect, useRef, useState } from 'react';
import { api } from '../../api/http';
import type { ConversationId } from '../../api/types';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { conversationOpened } from '../../features/chat/chatSlice';
import { conversationTitle } from '../../features/chat/conversation';
import { jumpToLatest, loadAround, loadNewest } from '../../features/chat/history';
import { navigate } from '../../lib/router';
import { GroupInfo } from '../groups/GroupInfo';
import { useBlockToggle } from '../UserMenu';
import { ChatHeader } from './ChatHeader';
import { Composer } from './Composer';
import { MessageList } from './MessageList';

type LoadFailure = 'missing' | 'error' | null;

/** Loads the conversation's first page unless it has one; reports a failure. */
function useFirstPage(conversationId: ConversationId, hasEntry: boolean): LoadFailure {
  const dispatch = useAppDispatch();
  const [failed, setFailed] = useState<LoadFailure>(null);
  const chatOpen = useAppSelector((s) => s.connection.chat.status === 'open');
  const focusSeq = useAppSelector((s) => (s.chatView.focus?.conversationId === conversationId ? s.chatView.focus.seq : null));
  useEffect(() => {
    if (hasEntry) return;
    let cancelled = false;
    setFailed(null);
    const load = focusSeq !== null ? loadAround(conversationId, focusSeq) : loadNewest(conversationId);
    void dispatch(load).then((status) => {
      if (cancelled || status === null) return;
      setFailed(status === 404 || status === 400 ? 'missing' : 'error');
    });
    return () => {
      cancelled = true;
    };
    // Not on focusSeq: a focus set later is the list's to handle. The socket reopening retries a failure.
  }, [dispatch, conversationId, hasEntry, chatOpen]);
  return failed;
}

/** Back to the list when the conversation goes away while open (I left, or was removed). */
function useCloseWhenRemoved(known: boolean): void {
  const wasKnown = useRef(false);
  useEffect(() => {
    if (known) wasKnown.current = true;
    else if (wasKnown.current) navigate('/', { replace: true });
  }, [known]);
}

function BlockedBar({ user }: { user: { id: string; username: string } }) {
  const { blocked, toggle } = useBlockToggle(user);
  if (!blocked) return null;
  return (
    <div role="status" className="mx-3 mt-2 flex items-center justify-center gap-3 rounded-xl bg-white/90 px-4 py-2 text-sm shadow-sm md:mx-[5%] dark:bg-slate-800/90">
      <span>You blocked {user.username}. They cannot send you messages.</span>
      <button type="button" onClick={() => void toggle()} className="font-semibold text-accent-600 hover:underline dark:text-accent-400">
        Unblock
      </button>
    </div>
  );
}

export function ChatView({ conversationId }: { conversationId: ConversationId }) {
  const dispatch = useAppDispatch();
  const conversation = useAppSelector((s) => s.chat.conversations[conversationId]);
  const entry = useAppSelector((s) => s.chat.messages[conversationId]);
  const listLoaded = useAppSelector((s) => s.chat.conversationsLoaded);
  const stickRef = useRef(false);
  const [infoOpen, setInfoOpen] = useState(false);
  const known = conversation !== undefined;
  const failed = useFirstPage(conversationId, entry !== undefined);
  useCloseWhenRemoved(known);

  useEffect(() => {
    dispatch(conversationOpened(conversationId));
    return () => {
      dispatch(conversationOpened(null));
    };
  }, [dispatch, conversationId]);

  // A conversation we have not heard of yet (opened from a link or a notification): refresh the list once.
  useEffect(() => {
    if (listLoaded && !known) {
      void dispatch(api.endpoints.conversations.initiate(undefined, { subscribe: false, forceRefetch: true }));
    }
  }, [dispatch, listLoaded, known, conversationId]);

  const group = conversation?.kind === 'group' ? conversation : null;
  return (
    <div className="flex min-w-0 flex-1">
      <section
        aria-label={conversation ? (group ? `Group ${group.title}` : `Chat with ${conversationTitle(conversation)}`) : 'Chat'}
        className={`chat-wallpaper min-w-0 flex-1 flex-col ${infoOpen && group ? 'hidden lg:flex' : 'flex'}`}
      >
        <ChatHeader conversation={conversation} infoOpen={infoOpen} onToggleInfo={() => setInfoOpen((v) => !v)} />
        {entry ? (
          <MessageList conversationId={conversationId} conversation={conversation} entry={entry} stickRef={stickRef} />
        ) : (
          <div className="flex flex-1 items-center justify-center p-6 text-sm text-slate-500 dark:text-slate-400">
            {failed === 'missing' ? (
              <p>This conversation does not exist or is not yours.</p>
            ) : failed === 'error' ? (
              <p>Could not load messages. They will load when the connection is back.</p>
            ) : (
              <p role="status">Loading messages…</p>
            )}
          </div>
        )}
        {conversation?.kind === 'direct' && <BlockedBar user={conversation.peer} />}
        {(entry || !failed) && failed !== 'missing' && (
          <Composer
            conversationId={conversationId}
            onSent={() => {
              stickRef.current = true;
              // Sent from older history: show the newest messages, where it lands.
              dispatch(jumpToLatest(conversationId));
            }}
          />
        )}
      </section>
      {infoOpen && group && <GroupInfo conversation={group} onClose={() => setInfoOpen(false)} />}
    </div>
  );
}
