// Notifications outside the page: at sign-in, this browser's push subscription is checked (see
// resync); while the tab is hidden, each new notification is shown by the browser, since the
// open tab keeps the user online and the server sends it no push.
import type { Middleware, ThunkDispatch, UnknownAction } from '@reduxjs/toolkit';
import type { SessionState } from '../session/sessionSlice';
import { plainText } from '../../lib/markdown';
import { isSignedInAction } from '../../sockets/chatSocket';
import { notificationReceived } from '../notifications/notificationsSlice';
import { mayNotify, resync, type BrowserNotificationsDeps } from './browserNotifications';
import type { ShowDeps } from './browserDeps';

export type NotificationsDepsFactory = (
  dispatch: ThunkDispatch<unknown, unknown, UnknownAction>,
) => BrowserNotificationsDeps & ShowDeps;

export function createBrowserNotificationsMiddleware(
  makeDeps: NotificationsDepsFactory,
): Middleware<object, { session: SessionState }> {
  return (store) => {
    const deps = makeDeps(store.dispatch as ThunkDispatch<unknown, unknown, UnknownAction>);
    return (next) => (action) => {
    const result = next(action);
    const a = action as UnknownAction;
    const user = store.getState().session.user;
    if (!user) return result;
    if (isSignedInAction(a)) {
      resync(deps, user.id).catch(() => {
        // The browser's push service may be unreachable; hidden tabs still notify.
      });
    } else if (notificationReceived.match(a) && a.payload.readAt === null && deps.isHidden() && mayNotify(deps, user.id)) {
      const n = a.payload;
      // The same tag and data as the service worker's pushes: one per conversation, a click opens it.
      void deps
        .show(n.from.username, {
          body: plainText(n.preview) || 'New message',
          tag: `conversation-${n.conversationId}`,
          icon: '/icons/icon-192.png',
          data: { conversationId: n.conversationId, seq: n.seq },
        })
        .catch(() => {});
    }
    return result;
    };
  };
}
