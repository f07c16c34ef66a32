import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { api } from '../../api/http';
import type { ConversationId, Notification, NotificationId } from '../../api/types';
import { readMarked } from '../chat/chatSlice';

export interface NotificationsState {
  /** Newest first, without duplicates. */
  items: Notification[];
  unreadCount: number;
  loaded: boolean;
}

const initialState: NotificationsState = { items: [], unreadCount: 0, loaded: false };

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

const notificationsSlice = createSlice({
  name: 'notifications',
  initialState,
  reducers: {
    notificationReceived(state, { payload }: PayloadAction<Notification>) {
      if (state.items.some((n) => n.id === payload.id)) return;
      state.items.unshift(payload);
      if (payload.readAt === null) state.unreadCount++;
    },
    /** Read in some tab (a `notifications.read` frame) or here. */
    notificationsRead(state, { payload }: PayloadAction<{ ids: NotificationId[]; at: string }>) {
      const ids = new Set(payload.ids);
      markRead(state, (n) => ids.has(n.id), payload.at);
    },
    allNotificationsRead(state, { payload }: PayloadAction<{ at: string }>) {
      markRead(state, () => true, payload.at);
      state.unreadCount = 0;
    },
  },
  extraReducers: (builder) => {
    builder
      .addCase(readMarked, (state, { payload }) => {
        // Reading a conversation up to seq reads its notifications up to seq (server does the same).
        markRead(state, (n) => n.conversationId === payload.conversationId && n.seq <= payload.seq, new Date().toISOString());
      })
      .addMatcher(api.endpoints.notifications.matchFulfilled, (state, { payload }) => {
        const fresh = new Set(payload.notifications.map((n) => n.id));
        // Keep live ones newer than the page (they arrived while it was on its way).
        const newest = payload.notifications[0]?.createdAt ?? '';
        const live = state.items.filter((n) => !fresh.has(n.id) && n.createdAt > newest);
        state.items = [...live, ...payload.notifications];
        state.unreadCount = payload.unreadCount + live.filter((n) => n.readAt === null).length;
        state.loaded = true;
      });
  },
});

export const { notificationReceived, notificationsRead, allNotificationsRead } = notificationsSlice.actions;
export const notificationsReducer = notificationsSlice.reducer;

export const selectUnreadNotifications = (s: { notifications: NotificationsState }) => s.notifications.unreadCount;

export function unreadNotificationIdsFor(
  s: { notifications: NotificationsState },
  conversationId: ConversationId,
  seq: number,
): NotificationId[] {
  return s.notifications.items.filter((n) => n.readAt === null && n.conversationId === conversationId && n.seq <= seq).map((n) => n.id);
}
