// Notifications outside the page: at sign-in, this browser's push subscription is checked (see
// resync); while the tab is hidden, each new notification is shown by the browser, since the
// open tab keeps the user online and the server sends it no push; one whose message is deleted
// is withdrawn (shown by this tab or by the service worker for a push).
import type { Middleware, ThunkDispatch, UnknownAction } from '@reduxjs/toolkit';
import type { Message } from '../../api/types';
import { historyApi } from '../../api/history';
import { messageUpdated, type ChatState } from '../chat/chatSlice';
import type { SessionState } from '../session/sessionSlice';
import { plainText } from '../../lib/markdown';
import { isSignedInAction } from '../../sockets/chatSocket';
import { notificationReceived } from '../notifications/notificationsSlice';
import { groupTitleOf, notificationTitle } from '../notifications/wording';
import { mayNotify, resync, type BrowserNotificationsDeps } from './browserNotifications';
import type { ShowDeps } from './browserDeps';

export type NotificationsDepsFactory = (
  dispatch: ThunkDispatch<unknown, unknown, UnknownAction>,
) => BrowserNotificationsDeps & ShowDeps;

/** One notification per conversation (the service worker's pushes use the same tag): a newer message replaces it. */
export function notificationTag(conversationId: string): string {
  return `conversation-${conversationId}`;
}

/** The messages an action says are deleted now: live, learned when catching up, or asked for one by one. */
function deletedBy(action: UnknownAction): readonly Message[] {
  if (messageUpdated.match(action)) return action.payload.message.deletedAt !== null ? [action.payload.message] : [];
  if (historyApi.endpoints.changes.matchFulfilled(action)) return action.payload.messages.filter((m) => m.deletedAt !== null);
  if (historyApi.endpoints.messageAt.matchFulfilled(action)) return action.payload?.deletedAt ? [action.payload] : [];
  return [];
}

export function createBrowserNotificationsMiddleware(
  makeDeps: NotificationsDepsFactory,
): Middleware<object, { session: SessionState; chat: Pick<ChatState, 'conversations'> }> {
  return (store) => {
    const dispatch = store.dispatch as ThunkDispatch<unknown, unknown, UnknownAction>;
    const deps = makeDeps(dispatch);
    return (next) => (action) => {
    const result = next(action);
    const a = action as UnknownAction;
    const user = store.getState().session.user;
    if (!user) return result;
    if (isSignedInAction(a)) {
      resync(deps, user.id).catch(() => {
        // The browser's push service may be unreachable; hidden tabs still notify.
      });
      // Pushes shown while no tab was open: each one's message is asked for, and a deleted one's goes (deletedBy).
      void deps
        .shown()
        .then((list) => {
          for (const n of list) void dispatch(historyApi.endpoints.messageAt.initiate(n, { subscribe: false }));
        })
        .catch(() => {});
    } else if (notificationReceived.match(a) && a.payload.readAt === null && deps.isHidden() && mayNotify(deps, user.id)) {
      const n = a.payload;
      // The same tag and data as the service worker's pushes: one per conversation, a click opens it.
      void deps
        .show(notificationTitle(n, groupTitleOf(store.getState().chat.conversations[n.conversationId])), {
          body: plainText(n.preview) || 'New message',
          tag: notificationTag(n.conversationId),
          icon: '/icons/icon-192.png',
          data: { conversationId: n.conversationId, seq: n.seq },
        })
        .catch(() => {});
    }
    for (const m of deletedBy(a)) void deps.withdraw(notificationTag(m.conversationId), m.seq).catch(() => {});
    return result;
    };
  };
}
