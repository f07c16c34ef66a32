import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { PREVIEW_CHARS } from '../../api/generated/limits';
import { historyApi } from '../../api/history';
import { api } from '../../api/http';
import type { ConversationId, Message, Notification, NotificationId } from '../../api/types';
import { messageUpdated, readMarked, type ChatState } from '../chat/chatSlice';

/** A body as the server previews it: its first PREVIEW_CHARS Unicode scalar values (as Rust's `chars()`). */
export function previewOf(body: string): string {
  return Array.from(body).slice(0, PREVIEW_CHARS).join('');
}

export interface NotificationsState {
  /** Newest first, without duplicates. */
  items: Notification[];
  unreadCount: number;
  loaded: boolean;
  /**
   * What edits and deletions said last, by `conversationId:seq`: the current preview, or null for
   * a deleted message, and when it was heard (ms). A page or frame that left the server before
   * the change (the notifications store applies it a moment after chat tells us) is corrected by
   * it. Kept for CHANGE_MEMORY_MS, and forgotten when the socket comes back (the page fetched
   * then is newer than anything heard before the break).
   */
  changed: Record<string, { preview: string | null; at: number }>;
  /**
   * My open mentions, newest first: notifications that mention me in a conversation I have not
   * read past them yet, what marks it with "@" in the list. The server lists them beside every
   * page (`unreadMentions`), however many newer notifications push them off it; live ones join.
   * Dismissing a notification (the bell) does not end its mention: reading its conversation past
   * it does (here, or anywhere: see `selectMentionedIn`), and so does deleting its message or an
   * edit that takes my name out.
   */
  mentions: Notification[];
}

/** How long an edit or deletion corrects pages and frames: far longer than the store takes to apply it. */
export const CHANGE_MEMORY_MS = 60_000;

const initialState: NotificationsState = { items: [], unreadCount: 0, loaded: false, changed: {}, mentions: [] };

const messageKey = (n: Pick<Notification, 'conversationId' | 'seq'>) => `${n.conversationId}:${n.seq}`;

/** `list` as the changes seen since say it is now: deleted messages' notifications out, edited ones re-previewed. */
function withChanges(state: NotificationsState, list: readonly Notification[]): Notification[] {
  forgetOldChanges(state);
  const out: Notification[] = [];
  for (const n of list) {
    const change = state.changed[messageKey(n)];
    if (change === undefined) out.push(n);
    else if (change.preview !== null) out.push({ ...n, preview: change.preview });
  }
  return out;
}

function forgetOldChanges(state: NotificationsState): void {
  const oldest = Date.now() - CHANGE_MEMORY_MS;
  for (const [key, change] of Object.entries(state.changed)) {
    if (change.at < oldest) delete state.changed[key];
  }
}

function markRead(state: NotificationsState, match: (n: Notification) => boolean, at: string): number {
  let changed = 0;
  for (const n of state.items) {
    if (n.readAt === null && match(n)) {
      n.readAt = at;
      changed++;
    }
  }
  state.unreadCount = Math.max(0, state.unreadCount - changed);
  return changed;
}

/**
 * A message was edited or deleted: its notifications must not keep the old text. The server
 * drops a deleted message's notifications and re-previews an edited one; the list here follows
 * (its `notifications.read` frame covers only the unread ones, and only marks them read).
 */
function messageChanged(state: NotificationsState, m: Message): void {
  state.changed[messageKey(m)] = { preview: m.deletedAt !== null ? null : previewOf(m.body), at: Date.now() };
  const unreadBefore = state.items.filter((n) => n.readAt === null).length;
  state.items = withChanges(state, state.items);
  state.mentions = withChanges(state, state.mentions);
  const unreadGone = unreadBefore - state.items.filter((n) => n.readAt === null).length;
  state.unreadCount = Math.max(0, state.unreadCount - unreadGone);
}

const notificationsSlice = createSlice({
  name: 'notifications',
  initialState,
  reducers: {
    notificationReceived(state, { payload }: PayloadAction<Notification>) {
      const [fresh] = withChanges(state, [payload]);
      if (!fresh || state.items.some((n) => n.id === fresh.id)) return;
      state.items.unshift(fresh);
      if (fresh.readAt === null) state.unreadCount++;
      if (fresh.readAt === null && fresh.mentioned && !state.mentions.some((n) => n.id === fresh.id)) state.mentions.unshift(fresh);
    },
    /** Read in some tab (a `notifications.read` frame) or here; their mentions stay until their conversation is read. */
    notificationsRead(state, { payload }: PayloadAction<{ ids: NotificationId[]; at: string }>) {
      const ids = new Set(payload.ids);
      markRead(state, (n) => ids.has(n.id), payload.at);
    },
    allNotificationsRead(state, { payload }: PayloadAction<{ at: string }>) {
      markRead(state, () => true, payload.at);
      state.unreadCount = 0;
    },
    /**
     * An edit changed whom a message names (`mentionsMe`: whether it names me now): its
     * notifications say so, and the conversation's "@" follows (the server does the same).
     */
    mentionEdited(state, { payload }: PayloadAction<{ conversationId: ConversationId; seq: number; mentionsMe: boolean }>) {
      const ofMessage = (n: Notification) => n.conversationId === payload.conversationId && n.seq === payload.seq;
      for (const n of state.items) if (ofMessage(n)) n.mentioned = payload.mentionsMe;
      state.mentions = state.mentions.filter((n) => !ofMessage(n));
      if (payload.mentionsMe) {
        const unread = state.items.filter((n) => ofMessage(n) && n.readAt === null);
        state.mentions = [...unread, ...state.mentions].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      }
    },
    /** The notifications socket is back: the page it fetches now says what is current. */
    notificationsResyncing(state) {
      state.changed = {};
    },
  },
  extraReducers: (builder) => {
    builder
      .addCase(readMarked, (state, { payload }) => {
        // Reading a conversation up to seq reads its notifications up to seq, and ends its
        // mentions up to there (the server does the same).
        const upToSeq = (n: Notification) => n.conversationId === payload.conversationId && n.seq <= payload.seq;
        markRead(state, upToSeq, new Date().toISOString());
        state.mentions = state.mentions.filter((n) => !upToSeq(n));
      })
      .addCase(messageUpdated, (state, { payload }) => messageChanged(state, payload.message))
      // Changes caught up after being away (a `message.updated` frame that never reached us).
      .addMatcher(historyApi.endpoints.changes.matchFulfilled, (state, { payload }) => {
        for (const m of payload.messages) messageChanged(state, m);
      })
      .addMatcher(api.endpoints.notifications.matchFulfilled, (state, { payload }) => {
        const fresh = new Set(payload.notifications.map((n) => n.id));
        // Keep live ones newer than the page (they arrived while it was on its way).
        const newest = payload.notifications[0]?.createdAt ?? '';
        const live = state.items.filter((n) => !fresh.has(n.id) && n.createdAt > newest);
        const page = withChanges(state, payload.notifications);
        // The count of a page that left before a deletion still counts that message's notifications.
        const unreadDropped = payload.notifications.filter((n) => n.readAt === null).length - page.filter((n) => n.readAt === null).length;
        state.items = [...live, ...page];
        state.unreadCount = Math.max(0, payload.unreadCount - unreadDropped) + live.filter((n) => n.readAt === null).length;
        // A server from before mentions were told sends none.
        const mentions = payload.unreadMentions ?? [];
        const listed = new Set(mentions.map((n) => n.id));
        const liveMentions = state.mentions.filter((n) => !listed.has(n.id) && n.createdAt > newest);
        state.mentions = [...liveMentions, ...withChanges(state, mentions)];
        state.loaded = true;
      });
  },
});

export const { notificationReceived, notificationsRead, allNotificationsRead, notificationsResyncing, mentionEdited } = notificationsSlice.actions;
export const notificationsReducer = notificationsSlice.reducer;

export const selectUnreadNotifications = (s: { notifications: NotificationsState }) => s.notifications.unreadCount;

/**
 * Whether this conversation has a mention of me I have not read past (its "@" in the list). My
 * read mark also moves when I read it in another tab (my receipt) or send into it, which end its
 * mentions on the server without telling this tab of them.
 */
export const selectMentionedIn = (
  s: { notifications: NotificationsState; chat: Pick<ChatState, 'conversations'> },
  conversationId: ConversationId,
): boolean => {
  const readUpTo = s.chat.conversations[conversationId]?.myReadSeq ?? 0;
  return s.notifications.mentions.some((n) => n.conversationId === conversationId && n.seq > readUpTo);
};

export function unreadNotificationIdsFor(
  s: { notifications: NotificationsState },
  conversationId: ConversationId,
  seq: number,
): NotificationId[] {
  return s.notifications.items.filter((n) => n.readAt === null && n.conversationId === conversationId && n.seq <= seq).map((n) => n.id);
}
