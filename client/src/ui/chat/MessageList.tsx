// The virtualized history of one conversation: older pages on scroll up, newer ones on scroll
// down (when opened at an older message), read receipts for what is on screen, scrolling to a
// focused message (a search result, a quoted message) with a short highlight, and the "New
// messages" line (opened at the first unread, that message is brought to the top under it).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Virtuoso, type ListRange, type VirtuosoHandle } from 'react-virtuoso';
import type { Conversation, ConversationId, Message, UserId } from '../../api/types';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import type { ConversationMessages } from '../../features/chat/chatSlice';
import { readBy } from '../../features/chat/conversation';
import { jumpToLatest, loadAroundFocus, loadNewer, loadOlder } from '../../features/chat/history';
import { eventsAfter, peopleOf } from '../../features/chat/groupEvents';
import { makeSelectTimeline, pendingTick, tickFor, type TimelineItem } from '../../features/chat/selectors';
import { lowerBound } from '../../features/chat/timeline';
import { focusCleared } from '../../features/chat/viewSlice';
import { selectKnownNames, senderNames, useNamesOf } from '../../features/users/namesSlice';
import { sameDay } from '../../lib/time';
import { readRequested } from '../../sockets/actions';
import { ArrowDownIcon } from '../icons';
import { GroupEventNotes } from './GroupEventNotes';
import { useDocumentVisible, useFlash, useLastSeqOnScreen, useOpening, usePinnedToBottom } from './hooks';
import { edgePages } from './opening';
import { MessageRow, PendingRow } from './MessageRow';
import { NewMessagesLine, useLineForUnseen } from './NewMessagesLine';

/** Virtuoso's index of the oldest loaded item is BASE + its seq, so a prepended page of n items lowers it by n. */
const BASE_INDEX = 1_000_000_000;
/** Messages of one sender closer than this form a run (one tail, one name, tighter spacing). */
const GROUP_MS = 5 * 60_000;
/** New messages closer together than this are a burst: the list jumps to them instead of gliding. */
const BURST_MS = 600;
/** How long a message brought into view stays highlighted. */
const HIGHLIGHT_MS = 2_500;

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
function findSeq(items: readonly Message[], seq: number): number {
  const i = lowerBound(items, seq);
  return items[i]?.seq === seq ? i : -1;
}

function Beginning({ group }: { group: boolean }) {
  return (
    <p className="pt-2 pb-1 text-center text-xs text-slate-500 dark:text-slate-400">
      This is the beginning of {group ? 'the group' : 'your conversation'}.
    </p>
  );
}

export function MessageList({
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
  const me = useAppSelector((s) => s.session.user);
  const known = useAppSelector(selectKnownNames);
  const myId: UserId | null = me?.id ?? null;
  const focus = useAppSelector((s) => (s.chatView.focus?.conversationId === conversationId ? s.chatView.focus : null));
  const lineSeq = useAppSelector((s) => (s.chatView.divider?.conversationId === conversationId ? s.chatView.divider.seq : null));
  const visible = useDocumentVisible();
  const virtuoso = useRef<VirtuosoHandle>(null);
  const [range, setRange] = useState<ListRange | null>(null);
  const [leftAtSeq, setLeftAtSeq] = useState<number | null>(null);
  const [scroller, setScroller] = useState<HTMLElement | null>(null);
  // Stable: a new ref callback on every render makes React call it again (null, then the element)
  // on every render, a state update each time, which a burst of messages turns into a render loop.
  const lastFollowAt = useRef(-Infinity);
  const scrollerRef = useCallback((el: HTMLElement | Window | null) => setScroller(el instanceof HTMLElement ? el : null), []);
  const [highlight, flash] = useFlash<number>(HIGHLIGHT_MS);

  const isGroup = conversation?.kind === 'group';
  const names = useMemo(() => ({ ...senderNames(known, conversation), ...(me ? { [me.id]: me.username } : {}) }), [known, conversation, me]);
  const groupEvents = useAppSelector((s) => s.groupEvents.byConversation[conversationId]);
  // Senders and people of the group's events no list named yet (former members, met nowhere
  // else): the users directory knows them.
  useNamesOf(
    isGroup
      ? [...items.flatMap((it) => (it.kind === 'message' ? [it.message.senderId] : [])), ...peopleOf(groupEvents)].filter((id) => names[id] === undefined)
      : [],
  );
  const firstSeq = entry.items[0]?.seq ?? (conversation?.lastSeq ?? 0) + 1;
  const firstItemIndex = BASE_INDEX + firstSeq;
  const lastSeq = conversation?.lastSeq ?? entry.syncedSeq;
  const focusIndex = focus ? findSeq(entry.items, focus.seq) : -1;
  const detached = entry.hasMoreAfter;
  // Where the current list (a new one for each window) opened: at a focused message, or at the
  // end. Virtuoso keeps reading its initial index until it got there, so it must not change.
  // The first unread goes to the top, under its line; a message asked for to the middle.
  const align = focus?.unread ? 'start' : 'center';
  const openedAt = useRef<{ epoch: number; index: number; seq: number | null; align: typeof align } | null>(null);
  if (openedAt.current?.epoch !== entry.epoch) {
    openedAt.current = { epoch: entry.epoch, index: focusIndex, seq: focusIndex >= 0 ? entry.items[focusIndex]!.seq : null, align };
  }
  const initialIndex = openedAt.current.index;
  // No page at either edge until the message it opened at is in sight (see opening.ts): a page
  // prepended meanwhile makes the initial index point at older history. A focused message not
  // loaded yet counts too: the rows shown until the history around it replaces them are not
  // where the reader is going, and must not be reported read.
  // Nothing follows new rows meanwhile either (followOutput false): Virtuoso measures one row
  // first, so a short history fits the view, counts as at the bottom, and once the other rows are
  // in, "grew while at the bottom" takes it to the newest, past the message it opened at. Only
  // `false` stops that; Virtuoso does not ask a function then.
  const opening = useOpening(scroller, entry.epoch, openedAt.current.seq ?? (focus && focusIndex < 0 ? focus.seq : null));
  // At the bottom as Virtuoso reports it, for this window: until its first layout, a list that
  // opened at the end is there and one that opened at a message is not (Virtuoso's own first
  // answer comes a few frames later, and the read receipts must not take "at the bottom" early).
  const [bottom, setBottom] = useState({ epoch: entry.epoch, at: initialIndex < 0 });
  if (bottom.epoch !== entry.epoch) setBottom({ epoch: entry.epoch, at: initialIndex < 0 });
  const atBottom = bottom.at;
  const setAtBottom = useCallback((at: boolean) => setBottom((b) => ({ ...b, at })), []);
  const pinned = usePinnedToBottom(detached ? null : scroller, initialIndex < 0);

  // Remember where we were when we scrolled away from the bottom, for the "new messages" pill.
  useEffect(() => {
    if (atBottom) setLeftAtSeq(null);
    else setLeftAtSeq((v) => v ?? lastSeq);
  }, [atBottom, lastSeq]);
  // What arrived since, or what is unread below (a list opened at the first unread), whichever is more.
  const newSince = Math.max(leftAtSeq === null ? 0 : lastSeq - leftAtSeq, conversation?.unread ?? 0);

  // A focused message: scroll to it when it is loaded, else load the history around it (once).
  const aroundFor = useRef<number | null>(null);
  useEffect(() => {
    if (!focus) return;
    if (focusIndex >= 0) {
      if (focusIndex !== initialIndex) virtuoso.current?.scrollToIndex({ index: focusIndex, align });
      if (!focus.unread) flash(focus.seq);
      dispatch(focusCleared());
    } else if (aroundFor.current !== focus.nonce) {
      aroundFor.current = focus.nonce;
      void dispatch(loadAroundFocus(conversationId, focus.seq));
    }
  }, [focus, focusIndex, initialIndex, align, conversationId, dispatch, flash]);

  // Open now: the edges it reached while opening load now (Virtuoso does not report them again).
  const wasOpening = useRef(opening);
  useEffect(() => {
    if (wasOpening.current === opening) return;
    wasOpening.current = opening;
    const load = edgePages(range, firstItemIndex, items.length, { opening, detached });
    if (load.older) void dispatch(loadOlder(conversationId));
    if (load.newer) void dispatch(loadNewer(conversationId));
  }, [opening, range, firstItemIndex, items.length, detached, conversationId, dispatch]);

  // Read receipts: what is on screen, while the tab is visible, up to where history has no hole.
  // Not while the list is still opening at a message: until Virtuoso got there, the rows it
  // laid out (hidden) and its "at the bottom" say nothing of what the reader sees.
  const onScreenSeq = useLastSeqOnScreen(scroller, range, items);
  useEffect(() => {
    if (!visible || !conversation || opening) return;
    const seq = Math.min(atBottom ? entry.syncedSeq : onScreenSeq, entry.syncedSeq);
    if (seq > conversation.myReadSeq) dispatch(readRequested({ conversationId, seq }));
  }, [visible, opening, atBottom, onScreenSeq, entry.syncedSeq, conversation, conversationId, dispatch]);
  useLineForUnseen(conversationId, conversation, entry.items, myId, { hasLine: lineSeq !== null, following: visible && atBottom && !detached, opening });

  const itemContent = useCallback(
    (index: number, item: TimelineItem) => {
      const i = index - firstItemIndex;
      const prev = items[i - 1];
      const next = items[i + 1];
      const layout = {
        showDay: !prev || !sameDay(itemTime(prev), itemTime(item)),
        firstInGroup: !grouped(prev, item),
        lastInGroup: !grouped(item, next),
      };
      // The start of history travels with the first message (the list is aligned to the bottom),
      // and what happened to the group before it; each event follows the message it came after.
      const beginning =
        i === 0 && !entry.hasMoreBefore ? (
          <>
            <Beginning group={isGroup} />
            <GroupEventNotes events={eventsAfter(groupEvents, 0)} names={names} myId={myId} />
          </>
        ) : null;
      if (item.kind === 'message') {
        const m = item.message;
        const mine = m.senderId === myId;
        let readers: string[] | null = null;
        if (isGroup && mine && !m.deletedAt) {
          // Shown where it differs from my next message's (a read watermark covers everything before it).
          const ids = readBy(conversation, m.seq, myId);
          const nextMine = next?.kind === 'message' && next.message.senderId === myId ? next.message : null;
          if (!nextMine || readBy(conversation, nextMine.seq, myId).length !== ids.length) readers = ids.map((id) => names[id] ?? 'someone');
        }
        const q = m.replyToSeq !== null ? findSeq(entry.items, m.replyToSeq) : -1;
        return (
          <>
            {beginning}
            {m.seq === lineSeq && <NewMessagesLine />}
            <MessageRow
              {...layout}
              message={m}
              mine={mine}
              myId={myId}
              tick={mine && !m.deletedAt ? tickFor(m.seq, conversation, myId) : null}
              senderName={isGroup && !mine && layout.firstInGroup ? (names[m.senderId] ?? 'Someone') : null}
              readers={readers}
              names={names}
              quoted={q >= 0 ? entry.items[q] : undefined}
              highlighted={highlight === m.seq}
            />
            <GroupEventNotes events={eventsAfter(groupEvents, m.seq)} names={names} myId={myId} />
          </>
        );
      }
      const p = item.pending;
      const q = p.replyToSeq !== null ? findSeq(entry.items, p.replyToSeq) : -1;
      return (
        <>
          {beginning}
          <PendingRow {...layout} mine pending={p} tick={pendingTick(p)} names={names} myId={myId} quoted={q >= 0 ? entry.items[q] : undefined} />
        </>
      );
    },
    [items, firstItemIndex, myId, conversation, names, isGroup, entry.hasMoreBefore, entry.items, highlight, groupEvents, lineSeq],
  );

  const Header = useMemo(
    () =>
      function ListHeader() {
        if (entry.loadingOlder) return <p className="py-3 text-center text-xs text-slate-500 dark:text-slate-400">Loading earlier messages…</p>;
        return <div className="h-3" />;
      },
    [entry.loadingOlder],
  );
  const Footer = useMemo(
    () =>
      function ListFooter() {
        if (entry.hasMoreAfter) return <p className="py-3 text-center text-xs text-slate-500 dark:text-slate-400">Loading newer messages…</p>;
        return <div className="h-2" />;
      },
    [entry.hasMoreAfter],
  );

  const followNewRows = (isAtBottom: boolean) => {
    if (detached) return false;
    if (stickRef.current) {
      stickRef.current = false;
      return 'auto';
    }
    // One new message glides in. In a burst the list jumps, and keeps following even while
    // the glide to the previous one has not reached the bottom yet, or while the rows that
    // came last are still being measured: until the reader scrolls up, it stays pinned. A
    // reader who scrolled up is not pulled down, burst or not.
    const now = performance.now();
    const burst = now - lastFollowAt.current < BURST_MS;
    if (!isAtBottom && !pinned.current) return false;
    lastFollowAt.current = now;
    return isAtBottom && !burst ? 'smooth' : 'auto';
  };

  if (items.length === 0) {
    return (
      <div className="flex flex-1 flex-col items-center justify-center gap-3 p-6">
        <GroupEventNotes events={groupEvents ?? []} names={names} myId={myId} />
        <p className="rounded-2xl bg-white/80 px-4 py-3 text-center text-sm text-slate-600 shadow-sm dark:bg-slate-800/80 dark:text-slate-300">
          {isGroup ? 'No messages yet. Say hello to the group 👋' : 'No messages yet. Say hello 👋'}
        </p>
      </div>
    );
  }

  return (
    <div className="relative min-h-0 flex-1" role="log" aria-label="Messages" aria-live="polite">
      <Virtuoso
        key={entry.epoch}
        ref={virtuoso}
        scrollerRef={scrollerRef}
        className="scrollbar-thin"
        data={items}
        firstItemIndex={firstItemIndex}
        initialTopMostItemIndex={initialIndex >= 0 ? { index: initialIndex, align: openedAt.current.align } : { index: 'LAST', align: 'end' }}
        alignToBottom
        computeItemKey={(_, item) => item.key}
        itemContent={itemContent}
        startReached={() => {
          if (!opening) void dispatch(loadOlder(conversationId));
        }}
        endReached={() => {
          if (detached && !opening) void dispatch(loadNewer(conversationId));
        }}
        atBottomStateChange={setAtBottom}
        atBottomThreshold={80}
        rangeChanged={setRange}
        increaseViewportBy={{ top: 600, bottom: 300 }}
        followOutput={opening ? false : followNewRows}
        components={{ Header, Footer }}
      />
      {(!atBottom || detached) && (
        <button
          type="button"
          onClick={() => {
            if (detached) dispatch(jumpToLatest(conversationId));
            else virtuoso.current?.scrollToIndex({ index: 'LAST', align: 'end' });
          }}
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
