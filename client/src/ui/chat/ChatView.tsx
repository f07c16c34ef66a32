// One conversation: its header, its history (loaded the first time it opens: the newest page,
// or the history around a message it was opened at, or its first unread), the composer, and a
// group's info panel. Files dropped anywhere on the chat go to the composer.
import { useEffect, useLayoutEffect, useRef, useState, type DragEvent } from 'react';
import { api } from '../../api/http';
import type { ConversationId } from '../../api/types';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { conversationOpened } from '../../features/chat/chatSlice';
import { conversationTitle } from '../../features/chat/conversation';
import { jumpToLatest, loadAround, loadNewest } from '../../features/chat/history';
import { enterConversation } from '../../features/chat/unread';
import { navigate } from '../../lib/router';
import { GroupInfo } from '../groups/GroupInfo';
import { useBlockToggle } from '../UserMenu';
import { ChatHeader } from './ChatHeader';
import { Composer } from './Composer';
import { MessageList } from './MessageList';
import { MentionsProvider } from './mentions';
import { useAttach } from './UploadTray';

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

/**
 * Whether the view decided where the conversation opens (its first unread message, see
 * unread.ts). Once, before the history loads or the list shows: a list shown at the newest first
 * would report everything read. The conversation list knows what is unread, so this waits for it;
 * a conversation it does not have opens at the newest. Before paint, so the wait never shows.
 */
function useEntered(conversationId: ConversationId, known: boolean): boolean {
  const dispatch = useAppDispatch();
  // A list that failed to load (its page says so) holds nothing back: opened at the newest.
  const listAnswered = useAppSelector((s) => s.chat.conversationsLoaded || api.endpoints.conversations.select()(s).isError);
  const [entered, setEntered] = useState(false);
  useLayoutEffect(() => {
    if (entered || !(known || listAnswered)) return;
    dispatch(enterConversation(conversationId));
    setEntered(true);
  }, [dispatch, conversationId, entered, known, listAnswered]);
  return entered;
}

/**
 * Whether the conversation went away while open (I left, or was removed); if so, back to the
 * list. Known at render time, so nothing asks the server for a conversation that is not mine now.
 */
function useGoneWhileOpen(known: boolean): boolean {
  const [wasKnown, setWasKnown] = useState(known);
  if (known && !wasKnown) setWasKnown(true);
  const gone = wasKnown && !known;
  useEffect(() => {
    if (gone) navigate('/', { replace: true });
  }, [gone]);
  return gone;
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

/** Drag and drop of files: whether files are over the chat, and the handlers that take them. */
function useFileDrop(onFiles: (files: File[]) => void) {
  const [over, setOver] = useState(false);
  // dragenter/dragleave fire for every child crossed: count them.
  const depth = useRef(0);
  const hasFiles = (e: DragEvent) => e.dataTransfer.types.includes('Files');
  const handlers = {
    onDragEnter: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current += 1;
      setOver(true);
    },
    onDragOver: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    },
    onDragLeave: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    },
    onDrop: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      onFiles([...e.dataTransfer.files]);
    },
  };
  return { over, handlers };
}

export function ChatView({ conversationId }: { conversationId: ConversationId }) {
  const dispatch = useAppDispatch();
  const conversation = useAppSelector((s) => s.chat.conversations[conversationId]);
  const entry = useAppSelector((s) => s.chat.messages[conversationId]);
  const listLoaded = useAppSelector((s) => s.chat.conversationsLoaded);
  const stickRef = useRef(false);
  const [infoOpen, setInfoOpen] = useState(false);
  const known = conversation !== undefined;
  const gone = useGoneWhileOpen(known);
  const entered = useEntered(conversationId, known);
  // Nothing loads before it is known where the conversation opens.
  const failed = useFirstPage(conversationId, entry !== undefined || gone || !entered);

  useEffect(() => {
    dispatch(conversationOpened(conversationId));
    return () => {
      dispatch(conversationOpened(null));
    };
  }, [dispatch, conversationId]);

  // A conversation we have not heard of yet (opened from a link or a notification): refresh the list once.
  useEffect(() => {
    if (listLoaded && !known && !gone) {
      void dispatch(api.endpoints.conversations.initiate(undefined, { subscribe: false, forceRefetch: true }));
    }
  }, [dispatch, listLoaded, known, gone, conversationId]);

  const attach = useAttach(conversationId);
  const canCompose = (entry !== undefined || !failed) && failed !== 'missing';
  const drop = useFileDrop(attach);

  const group = conversation?.kind === 'group' ? conversation : null;
  return (
    <MentionsProvider conversation={conversation}>
      <div className="flex min-w-0 flex-1">
        <section
          aria-label={conversation ? (group ? `Group ${group.title}` : `Chat with ${conversationTitle(conversation)}`) : 'Chat'}
          className={`chat-wallpaper relative min-w-0 flex-1 flex-col ${infoOpen && group ? 'hidden lg:flex' : 'flex'}`}
          {...(canCompose ? drop.handlers : {})}
        >
          {drop.over && (
            <div
              data-testid="drop-zone"
              className="pointer-events-none absolute inset-2 z-20 flex items-center justify-center rounded-2xl border-2 border-dashed border-accent-500 bg-white/85 text-lg font-semibold text-accent-700 dark:bg-slate-900/85 dark:text-accent-300"
            >
              Drop files to send them
            </div>
          )}
          <ChatHeader conversation={conversation} infoOpen={infoOpen} onToggleInfo={() => setInfoOpen((v) => !v)} />
          {entry && entered ? (
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
          {canCompose && (
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
    </MentionsProvider>
  );
}
