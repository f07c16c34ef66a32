// The middleware that owns `/ws/notifications`: open while signed in (it is what makes us
// "online"), feeds notifications, read marks and presence to their slices, refreshes on reconnect.
import type { Middleware, UnknownAction } from '@reduxjs/toolkit';
import { adminApi } from '../api/admin';
import { api } from '../api/http';
import { mutesApi } from '../api/mutes';
import type { NotificationServerFrame } from '../api/types';
import { browserOnlineChanged } from '../features/connection/connectionSlice';
import { notificationReceived, notificationsRead, notificationsResyncing } from '../features/notifications/notificationsSlice';
import { sessionEndAnnounced, sessionEnded, sessionEndOf } from '../features/session/sessionSlice';
import { presenceChanged, userRegistered } from '../features/users/usersSlice';
import { reconnectRequested } from './actions';
import { isSignedInAction } from './chatSocket';
import type { SocketDeps } from './deps';
import { ReconnectingSocket } from './reconnectingSocket';
import { connectionAction, parseFrame, type SocketDispatch, type SocketRootState } from './state';

/** Close codes of a server that ended the socket's session (4001), or closed it by policy (1008). */
export const SESSION_ENDED_CLOSE_CODES = [4001, 1008];

export function createNotificationsSocketMiddleware(deps: SocketDeps): Middleware<object, SocketRootState> {
  return (store) => {
    const dispatch = store.dispatch as SocketDispatch;
    let opens = 0;

    const socket = new ReconnectingSocket({
      url: () => deps.wsUrl('/ws/notifications'),
      create: deps.create,
      clock: deps.clock,
      random: deps.random,
      onEvent: (e) => dispatch(connectionAction('notifications', e)),
      // The server closes sockets whose session ended (signed out elsewhere, account disabled):
      // ask at once whether we are still signed in (the session guard acts on the answer), and
      // keep the reason it gave for the sign-in page.
      onClose: (code, reason) => {
        const end = sessionEndOf(reason);
        if (end) dispatch(sessionEndAnnounced(end));
        if (SESSION_ENDED_CLOSE_CODES.includes(code)) {
          void dispatch(api.endpoints.currentUser.initiate(undefined, { subscribe: false, forceRefetch: true }));
        }
      },
      onOpen: () => {
        opens++;
        // Whatever happened while we were away: unread notifications, and (on a reconnect) presence.
        if (opens > 1) dispatch(notificationsResyncing());
        void dispatch(api.endpoints.notifications.initiate(undefined, { subscribe: false, forceRefetch: true }));
        if (opens > 1) {
          // Presence missed while away: the people list and the direct conversations' peers;
          // and mutes changed meanwhile in another tab or on another device.
          dispatch(api.util.invalidateTags(['Users']));
          dispatch(mutesApi.util.invalidateTags(['Muted']));
          void dispatch(api.endpoints.conversations.initiate(undefined, { subscribe: false, forceRefetch: true }));
        }
      },
      onMessage: (data) => {
        const frame = parseFrame<NotificationServerFrame>(data);
        if (!frame) return;
        switch (frame.type) {
          case 'notification':
            dispatch(notificationReceived(frame.notification));
            break;
          case 'notifications.read': {
            const known = new Set(store.getState().notifications.items.map((n) => n.id));
            dispatch(notificationsRead({ ids: frame.ids, at: new Date(deps.clock.now()).toISOString() }));
            // Some are older than the loaded page: only the server knows the count now.
            if (frame.ids.some((id) => !known.has(id))) {
              void dispatch(api.endpoints.notifications.initiate(undefined, { subscribe: false, forceRefetch: true }));
            }
            break;
          }
          case 'presence':
            dispatch(
              presenceChanged({
                userId: frame.userId,
                username: frame.username,
                online: frame.online,
                lastSeenAt: frame.lastSeenAt,
              }),
            );
            break;
          case 'user.registered':
            // Shown at once; the refetch (presence, order) may not list them yet.
            dispatch(userRegistered(frame.user));
            dispatch(api.util.invalidateTags(['Users']));
            // An admin's accounts list, if open, lists them too.
            dispatch(adminApi.util.invalidateTags(['AdminUsers']));
            break;
          default:
            break;
        }
      },
    });

    return (next) => (action) => {
      const result = next(action);
      const a = action as UnknownAction;
      if (isSignedInAction(a)) {
        socket.start();
      } else if (sessionEnded.match(a)) {
        socket.stop();
        opens = 0;
      } else if (reconnectRequested.match(a)) {
        socket.reconnectNow();
      } else if (browserOnlineChanged.match(a)) {
        socket.setOffline(!a.payload);
      }
      return result;
    };
  };
}
