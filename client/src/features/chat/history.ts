// Loading history over HTTP into the chat slice: the newest page, older and newer pages, a
// window around one message, and catching up by seq and by change counter. Pages are merged by
// seq, so any of these may overlap freely with live frames.
import type { ThunkAction, UnknownAction } from '@reduxjs/toolkit';
import { historyApi } from '../../api/history';
import { api } from '../../api/http';
import type { ConversationId } from '../../api/types';
import { historyReset, type ChatState } from './chatSlice';
import { lowerBound } from './timeline';
import { focusCleared, type ChatViewState } from './viewSlice';

type HistoryThunk<R = void> = ThunkAction<Promise<R>, { chat: ChatState; chatView: ChatViewState }, unknown, UnknownAction>;

/** Catch-up pages use the contract's largest page. */
const FILL_PAGE = 100;
/** Bound on pages fetched per conversation in one catch-up (100 × 100 messages or changes). */
const MAX_PAGES = 100;
/** Older and newer history come in the largest pages too: fewer round trips while scrolling. */
export const SCROLL_PAGE = 100;
/** A window opened at a message shows this many before it (and as many after). */
export const AROUND = 25;

const once = { subscribe: false, forceRefetch: true } as const;

/** The newest page, when a conversation is opened the first time. Resolves to the HTTP status of a failure, if any. */
export const loadNewest =
  (conversationId: ConversationId): HistoryThunk<number | string | null> =>
  async (dispatch) => {
    const r = await dispatch(api.endpoints.messages.initiate({ conversationId }, once));
    return r.error ? ((r.error as { status?: number | string }).status ?? 'error') : null;
  };

/** Replaces the loaded window by the messages around `seq`. Resolves to the HTTP status of a failure, if any. */
export const loadAround =
  (conversationId: ConversationId, seq: number): HistoryThunk<number | string | null> =>
  async (dispatch) => {
    const after = Math.max(0, seq - AROUND - 1);
    const r = await dispatch(api.endpoints.messages.initiate({ conversationId, after, limit: 2 * AROUND, replace: true }, once));
    return r.error ? ((r.error as { status?: number | string }).status ?? 'error') : null;
  };

/** Loads the history around the focused message `seq`; a message that is not there (any more) is no longer focused. */
export const loadAroundFocus =
  (conversationId: ConversationId, seq: number): HistoryThunk =>
  async (dispatch, getState) => {
    const failed = await dispatch(loadAround(conversationId, seq));
    const items = getState().chat.messages[conversationId]?.items ?? [];
    const focus = getState().chatView.focus;
    const found = items[lowerBound(items, seq)]?.seq === seq;
    if (!found && failed === null && focus?.conversationId === conversationId && focus.seq === seq) dispatch(focusCleared());
  };

export const loadOlder =
  (conversationId: ConversationId): HistoryThunk =>
  async (dispatch, getState) => {
    const entry = getState().chat.messages[conversationId];
    const oldest = entry?.items[0];
    if (!entry || !entry.hasMoreBefore || entry.loadingOlder || !oldest) return;
    await dispatch(api.endpoints.messages.initiate({ conversationId, before: oldest.seq, limit: SCROLL_PAGE }, once));
  };

/** The next page of a window that stops short of the newest messages; once it reaches them, whatever arrived meanwhile. */
export const loadNewer =
  (conversationId: ConversationId): HistoryThunk =>
  async (dispatch, getState) => {
    const entry = getState().chat.messages[conversationId];
    if (!entry || !entry.hasMoreAfter || entry.loadingNewer) return;
    await dispatch(api.endpoints.messages.initiate({ conversationId, after: entry.syncedSeq, limit: SCROLL_PAGE }, once));
    const now = getState().chat;
    const lastSeq = now.conversations[conversationId]?.lastSeq ?? 0;
    if (now.messages[conversationId]?.hasMoreAfter === false) await dispatch(fillConversation(conversationId, lastSeq));
  };

/**
 * Fetches `after=<syncedSeq>` pages for one opened conversation until it is synced to `lastSeq`.
 * A window that stops short of the newest messages is left alone: it loads them on scroll.
 */
export const fillConversation =
  (conversationId: ConversationId, lastSeq: number): HistoryThunk =>
  async (dispatch, getState) => {
    for (let page = 0; page < MAX_PAGES; page++) {
      const entry = getState().chat.messages[conversationId];
      if (!entry || entry.hasMoreAfter) return; // never opened: it loads its newest page when opened
      const after = entry.syncedSeq;
      if (after >= lastSeq) return;
      const result = await dispatch(api.endpoints.messages.initiate({ conversationId, after, limit: FILL_PAGE }, once));
      if (!result.data) return;
      const now = getState().chat.messages[conversationId]?.syncedSeq ?? after;
      if (now <= after || !result.data.hasMore) return;
    }
  };

/** Fetches what changed (edits, deletes, reactions) in an opened conversation since the change applied last, up to `lastChange`. */
export const fillChanges =
  (conversationId: ConversationId, lastChange: number): HistoryThunk =>
  async (dispatch, getState) => {
    for (let page = 0; page < MAX_PAGES; page++) {
      const chat = getState().chat;
      if (!chat.messages[conversationId]) return; // not loaded: it loads in its current state
      const since = chat.appliedChange[conversationId] ?? 0;
      if (since >= lastChange) return;
      const result = await dispatch(historyApi.endpoints.changes.initiate({ conversationId, since }, once));
      if (!result.data || !result.data.hasMore || result.data.lastChange <= since) return;
    }
  };

/** Back to the newest messages from a window that stops short of them: the open chat loads its newest page again. */
export const jumpToLatest =
  (conversationId: ConversationId): ThunkAction<void, { chat: ChatState; chatView: ChatViewState }, unknown, UnknownAction> =>
  (dispatch, getState) => {
    dispatch(focusCleared());
    if (getState().chat.messages[conversationId]?.hasMoreAfter) dispatch(historyReset(conversationId));
  };
