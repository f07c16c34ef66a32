import { combineReducers, configureStore, type Middleware, type UnknownAction } from '@reduxjs/toolkit';
import { api } from '../api/http';
import { chatReducer } from '../features/chat/chatSlice';
import { drafts } from '../features/chat/drafts';
import { groupEventsReducer } from '../features/chat/groupEvents';
import { typingReducer } from '../features/chat/typingSlice';
import { uploadsReducer } from '../features/chat/uploadsSlice';
import { chatViewReducer } from '../features/chat/viewSlice';
import { noticesReducer } from '../features/notices/noticesSlice';
import { connectionReducer } from '../features/connection/connectionSlice';
import { notificationsReducer } from '../features/notifications/notificationsSlice';
import { browserNotificationsDeps } from '../features/push/browserDeps';
import { createBrowserNotificationsMiddleware, type NotificationsDepsFactory } from '../features/push/middleware';
import { sessionEnded, sessionReducer } from '../features/session/sessionSlice';
import { namesReducer } from '../features/users/namesSlice';
import { usersReducer } from '../features/users/usersSlice';
import { createChatSocketMiddleware } from '../sockets/chatSocket';
import { browserDeps, type SocketDeps } from '../sockets/deps';
import { createNotificationsSocketMiddleware } from '../sockets/notificationsSocket';
import { createSessionGuard } from './sessionGuard';
import { browserTabs, type SessionTabs } from './sessionTabs';

const slices = combineReducers({
  session: sessionReducer,
  users: usersReducer,
  names: namesReducer,
  chat: chatReducer,
  groupEvents: groupEventsReducer,
  typing: typingReducer,
  chatView: chatViewReducer,
  uploads: uploadsReducer,
  notices: noticesReducer,
  notifications: notificationsReducer,
  connection: connectionReducer,
  [api.reducerPath]: api.reducer,
});

type SlicesState = ReturnType<typeof slices>;

/** Ending the session forgets everything the signed-in user could see. */
function rootReducer(state: SlicesState | undefined, action: UnknownAction): SlicesState {
  if (state && sessionEnded.match(action)) {
    const fresh = slices(undefined, action);
    return { ...fresh, connection: { ...fresh.connection, browserOnline: state.connection.browserOnline }, api: state.api };
  }
  return slices(state, action);
}

/**
 * Signed out, however (here, in another tab, the session expired, or found so on loading): the
 * unsent drafts go too. They live outside the store, to outlast a reload.
 */
const forgetDraftsWhenSignedOut: Middleware<object, SlicesState> = (store) => (next) => (action) => {
  const was = store.getState().session.status;
  const result = next(action);
  if (was !== 'signedOut' && store.getState().session.status === 'signedOut') drafts.clear();
  return result;
};

/** `notifications`: the browser's notifications, or none (unit tests of other parts); `tabs`: this browser's other tabs. */
export function makeStore(
  deps: SocketDeps = browserDeps(),
  notifications: NotificationsDepsFactory | null = browserNotificationsDeps,
  tabs: SessionTabs | null = browserTabs(),
) {
  return configureStore({
    reducer: rootReducer,
    middleware: (getDefault) =>
      getDefault().concat(
        api.middleware,
        createSessionGuard(tabs),
        forgetDraftsWhenSignedOut,
        createChatSocketMiddleware(deps),
        createNotificationsSocketMiddleware(deps),
        ...(notifications ? [createBrowserNotificationsMiddleware(notifications)] : []),
      ),
  });
}

export type AppStore = ReturnType<typeof makeStore>;
export type RootState = ReturnType<AppStore['getState']>;
export type AppDispatch = AppStore['dispatch'];
