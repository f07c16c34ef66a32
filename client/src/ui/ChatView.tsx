// One conversation: header with presence and typing, the virtualized history, the composer.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Virtuoso, type ListRange, type VirtuosoHandle } from 'react-virtuoso';
import { api } from '../api/http';
import type { Conversation, ConversationId } from '../api/types';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { conversationOpened, type ConversationMessages } from '../features/chat/chatSlice';
import { makeSelectTimeline, pendingTick, tickFor, type TimelineItem } from '../features/chat/selectors';
import { navigate } from '../lib/router';
import { lastSeen, sameDay } from '../lib/time';
import { readRequested, retryRequested } from '../sockets/actions';
import { Avatar } from './Avatar';
import { Composer } from './Composer';
import { ArrowDownIcon, BackIcon } from './icons';
import { MessageRow } from './MessageRow';

/** Virtuoso's index of the oldest loaded item is BASE + its seq, so a prepended page of n items lowers it by n. */
const BASE_INDEX = 1_000_000_000;
/** Older history comes in the contract's largest pages: fewer round trips while scrolling up. */
const OLDER_PAGE = 100;
/** Messages of one sender closer than this form a group (one tail, tighter spacing). */
const GROUP_MS = 5 * 60_000;

function useDocumentVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const on = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, []);
  return visible;
}

function itemSender(item: TimelineItem): string {
  return item.kind === 'message' ? item.message.senderId : item.pending.senderId;
}
function itemTime(item: TimelineItem): string {
  return item.kind === 'message' ? item.message.sentAt : item.pending.createdAt;
}
function grouped(a: TimelineItem | undefined, b: TimelineItem | undefined): boolean {
  if (!a || !b || itemSender(a) !== itemSender(b)) return false;
  return Math.abs(Date.parse(itemTime(b)) - Date.parse(itemTime(a))) < GROUP_MS && sameDay(itemTime(a), itemTime(b));
}

function Beginning() {
  return <p className="pt-2 pb-1 text-center text-xs text-slate-500 dark:text-slate-400">This is the beginning of your conversation.</p>;
}

function Header({ conversation }: { conversation: Conversation | undefined }) {
  const typing = useAppSelector((s) => (conversation ? s.chat.typing[conversation.id] : undefined));
  const peer = conversation?.peer;
  let status: React.ReactNode = '';
  if (typing) {
    status = (
      <span className="inline-flex items-center gap-1 text-accent-600 dark:text-accent-400">
        typing
        <span className="inline-flex gap-0.5" aria-hidden="true">
          <span className="typing-dot h-1 w-1 rounded-full bg-current" />
          <span className="typing-dot h-1 w-1 rounded-full bg-current" />
          <span className="typing-dot h-1 w-1 rounded-full bg-current" />
        </span>
      </span>
    );
  } else if (peer) {
    status = peer.online ? <span className="text-emerald-600 dark:text-emerald-400">online</span> : lastSeen(peer.lastSeenAt);
  }
  return (
    <header className="flex items-center gap-3 border-b border-slate-200 bg-white/90 px-2 py-2 backdrop-blur md:px-4 dark:border-slate-800 dark:bg-slate-900/90">
      <button
        type="button"
        aria-label="Back to chats"
        onClick={() => navigate('/')}
        className="inline-flex h-10 w-10 items-center justify-center rounded-full text-2xl text-slate-600 hover:bg-slate-100 md:hidden dark:text-slate-300 dark:hover:bg-slate-800"
      >
        <BackIcon />
      </button>
      {peer && <Avatar id={peer.id} name={peer.username} online={peer.online} size="sm" />}
      <div className="min-w-0 flex-1">
        <h2 className="truncate font-semibold" data-testid="chat-title">
          {peer?.username ?? '…'}
        </h2>
        <p className="truncate text-xs text-slate-500 dark:text-slate-400" aria-live="polite" data-testid="chat-status">
          {status}
        </p>
      </div>
    </header>
  );
}

function MessageList({
  conversationId,
  conversation,
  entry,
  stickRef,
}: {
  conversationId: ConversationId;
  conversation: Conversation | undefined;
  entry: ConversationMessages;
  stickRef: React.RefObject<boolean>;
}) {
  const dispatch = useAppDispatch();
  const selectTimeline = useMemo(makeSelectTimeline, []);
  const items = useAppSelector((s) => selectTimeline(s, conversationId));
  const myId = useAppSelector((s) => s.session.user?.id);
  const visible = useDocumentVisible();
  const virtuoso = useRef<VirtuosoHandle>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [range, setRange] = useState<ListRange | null>(null);
  const [leftAtSeq, setLeftAtSeq] = useState<number | null>(null);
  const [scroller, setScroller] = useState<HTMLElement | null>(null);

  // Stay pinned to the bottom when the list's box changes height (the composer grows, a phone
  // keyboard opens, the connection banner appears) or the last row grows: "at bottom" as of the
  // last scroll. Virtuoso's followOutput covers new rows only.
  useEffect(() => {
    if (!scroller) return;
    const gap = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    let pinned = gap() < 80;
    let frame = 0;
    const onScroll = () => {
      pinned = gap() < 80;
    };
    const ro = new ResizeObserver(() => {
      if (!pinned) return;
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (gap() > 1) scroller.scrollTop = scroller.scrollHeight;
      });
    });
    scroller.addEventListener('scroll', onScroll, { passive: true });
    ro.observe(scroller);
    const content = scroller.firstElementChild;
    if (content) ro.observe(content);
    return () => {
      cancelAnimationFrame(frame);
      scroller.removeEventListener('scroll', onScroll);
      ro.disconnect();
    };
  }, [scroller]);

  const firstSeq = entry.items[0]?.seq ?? (conversation?.lastSeq ?? 0) + 1;
  const firstItemIndex = BASE_INDEX + firstSeq;
  const lastSeq = conversation?.lastSeq ?? entry.syncedSeq;

  // Remember where we were when we scrolled away from the bottom, for the "new messages" pill.
  useEffect(() => {
    if (atBottom) setLeftAtSeq(null);
    else setLeftAtSeq((v) => v ?? lastSeq);
  }, [atBottom, lastSeq]);
  const newSince = leftAtSeq === null ? 0 : Math.max(0, lastSeq - leftAtSeq);

  // Read receipts: what is on screen, while the tab is visible, up to where history has no hole.
  useEffect(() => {
    if (!visible || !conversation) return;
    let seq = 0;
    if (atBottom) {
      seq = entry.syncedSeq;
    } else if (range) {
      for (let i = range.endIndex - firstItemIndex; i >= 0; i--) {
        const it = items[i];
        if (it?.kind === 'message') {
          seq = it.message.seq;
          break;
        }
      }
    }
    seq = Math.min(seq, entry.syncedSeq);
    if (seq > conversation.myReadSeq) dispatch(readRequested({ conversationId, seq }));
  }, [visible, atBottom, range, items, firstItemIndex, entry.syncedSeq, conversation, conversationId, dispatch]);

  const loadOlder = useCallback(() => {
    const oldest = entry.items[0];
    if (!entry.hasMoreBefore || entry.loadingOlder || !oldest) return;
    void dispatch(api.endpoints.messages.initiate({ conversationId, before: oldest.seq, limit: OLDER_PAGE }, { subscribe: false, forceRefetch: true }));
  }, [dispatch, conversationId, entry.hasMoreBefore, entry.loadingOlder, entry.items]);

  const itemContent = useCallback(
    (index: number, item: TimelineItem) => {
      const i = index - firstItemIndex;
      const prev = items[i - 1];
      const next = items[i + 1];
      const at = itemTime(item);
      const showDay = !prev || !sameDay(itemTime(prev), at);
      // The start of history travels with the first message (the list is aligned to the bottom).
      const beginning = i === 0 && !entry.hasMoreBefore ? <Beginning /> : null;
      if (item.kind === 'message') {
        const m = item.message;
        const mine = m.senderId === myId;
        return (
          <>
            {beginning}
            <MessageRow
              body={m.body}
              at={at}
              mine={mine}
              tick={mine ? tickFor(m.seq, conversation) : null}
              seq={m.seq}
              showDay={showDay}
              firstInGroup={!grouped(prev, item)}
              lastInGroup={!grouped(item, next)}
              error={null}
            />
          </>
        );
      }
      const p = item.pending;
      return (
        <>
          {beginning}
          <MessageRow
            body={p.body}
            at={at}
            mine
            tick={pendingTick(p)}
            seq={null}
            showDay={showDay}
            firstInGroup={!grouped(prev, item)}
            lastInGroup={!grouped(item, next)}
            error={p.error}
            onRetry={() => dispatch(retryRequested(p.clientId))}
          />
        </>
      );
    },
    [items, firstItemIndex, myId, conversation, dispatch, entry.hasMoreBefore],
  );

  const Header = useMemo(
    () =>
      function ListHeader() {
        if (entry.loadingOlder) return <p className="py-3 text-center text-xs text-slate-500 dark:text-slate-400">Loading earlier messages…</p>;
        return <div className="h-3" />;
      },
    [entry.loadingOlder],
  );

  if (items.length === 0) {
    return (
      <div className="flex flex-1 items-center justify-center p-6">
        <p className="rounded-2xl bg-white/80 px-4 py-3 text-center text-sm text-slate-600 shadow-sm dark:bg-slate-800/80 dark:text-slate-300">
          No messages yet. Say hello 👋
        </p>
      </div>
    );
  }

  return (
    <div className="relative min-h-0 flex-1" role="log" aria-label="Messages" aria-live="polite">
      <Virtuoso
        ref={virtuoso}
        scrollerRef={(el) => setScroller(el instanceof HTMLElement ? el : null)}
        className="scrollbar-thin"
        data={items}
        firstItemIndex={firstItemIndex}
        initialTopMostItemIndex={{ index: 'LAST', align: 'end' }}
        alignToBottom
        computeItemKey={(_, item) => item.key}
        itemContent={itemContent}
        startReached={loadOlder}
        atBottomStateChange={setAtBottom}
        atBottomThreshold={80}
        rangeChanged={setRange}
        increaseViewportBy={{ top: 600, bottom: 300 }}
        followOutput={(isAtBottom) => {
          if (stickRef.current) {
            stickRef.current = false;
            return 'auto';
          }
          return isAtBottom ? 'smooth' : false;
        }}
        components={{ Header, Footer: () => <div className="h-2" /> }}
      />
      {!atBottom && (
        <button
          type="button"
          onClick={() => virtuoso.current?.scrollToIndex({ index: 'LAST', align: 'end' })}
          aria-label={newSince > 0 ? `${newSince} new message${newSince > 1 ? 's' : ''}` : 'Scroll to latest'}
          data-testid="new-messages"
          className="absolute right-4 bottom-3 inline-flex items-center gap-1.5 rounded-full bg-white px-3 py-2 text-sm font-medium text-slate-700 shadow-lg ring-1 ring-slate-200 hover:bg-slate-50 dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-700 dark:hover:bg-slate-700"
        >
          {newSince > 0 && (
            <span>
              {newSince} new message{newSince > 1 ? 's' : ''}
            </span>
          )}
          <ArrowDownIcon />
        </button>
      )}
    </div>
  );
}

export function ChatView({ conversationId }: { conversationId: ConversationId }) {
  const dispatch = useAppDispatch();
  const conversation = useAppSelector((s) => s.chat.conversations[conversationId]);
  const entry = useAppSelector((s) => s.chat.messages[conversationId]);
  const [failed, setFailed] = useState<'missing' | 'error' | null>(null);
  const stickRef = useRef(false);
  const hasEntry = entry !== undefined;
  const chatOpen = useAppSelector((s) => s.connection.chat.status === 'open');

  useEffect(() => {
    dispatch(conversationOpened(conversationId));
    return () => {
      dispatch(conversationOpened(null));
    };
  }, [dispatch, conversationId]);

  // A conversation we have not heard of yet (opened from a link or a notification): refresh the list once.
  const listLoaded = useAppSelector((s) => s.chat.conversationsLoaded);
  const known = conversation !== undefined;
  useEffect(() => {
    if (listLoaded && !known) {
      void dispatch(api.endpoints.conversations.initiate(undefined, { subscribe: false, forceRefetch: true }));
    }
  }, [dispatch, listLoaded, known, conversationId]);

  // The newest page, the first time this conversation is opened (later, catch-up keeps it current).
  useEffect(() => {
    if (hasEntry) return;
    let cancelled = false;
    setFailed(null);
    void dispatch(api.endpoints.messages.initiate({ conversationId }, { subscribe: false, forceRefetch: true })).then((r) => {
      if (cancelled || !r.error) return;
      const status = (r.error as { status?: unknown }).status;
      setFailed(status === 404 || status === 400 ? 'missing' : 'error');
    });
    return () => {
      cancelled = true;
    };
  }, [dispatch, conversationId, hasEntry, chatOpen]);

  return (
    <section aria-label={conversation ? `Chat with ${conversation.peer.username}` : 'Chat'} className="chat-wallpaper flex min-w-0 flex-1 flex-col">
      <Header conversation={conversation} />
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
      {(entry || !failed) && failed !== 'missing' && (
        <Composer
          conversationId={conversationId}
          onSent={() => {
            stickRef.current = true;
          }}
        />
      )}
    </section>
  );
}
