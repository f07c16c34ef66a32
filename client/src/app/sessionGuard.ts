// Ends the session in the store when the server no longer accepts it: any 401 `unauthenticated`,
// a currentuser answer of null while we thought we were signed in, or a completed sign-out.
import type { Middleware, UnknownAction } from '@reduxjs/toolkit';
import { isRejectedWithValue } from '@reduxjs/toolkit';
import { api } from '../api/http';
import { sessionEnded, type SessionState } from '../features/session/sessionSlice';

export const sessionGuard: Middleware<object, { session: SessionState }> = (store) => (next) => (action) => {
  const wasSignedIn = store.getState().session.status === 'signedIn';
  const result = next(action);
  const a = action as UnknownAction;
  // Not signed out here: the sign-in page says why (as a socket's close announced it, if one did).
  const endedElsewhere = () => sessionEnded({ because: store.getState().session.ended ?? 'ended' });
  if (api.endpoints.signout.matchFulfilled(a) || api.endpoints.signout.matchRejected(a)) {
    store.dispatch(sessionEnded());
    store.dispatch(api.util.resetApiState());
  } else if (wasSignedIn && api.endpoints.currentUser.matchFulfilled(a) && a.payload.currentUser === null) {
    store.dispatch(endedElsewhere());
    store.dispatch(api.util.resetApiState());
  } else if (wasSignedIn && isRejectedWithValue(a)) {
    const status = (a.payload as { status?: unknown } | undefined)?.status;
    const isAuthCall = api.endpoints.signin.matchRejected(a) || api.endpoints.signup.matchRejected(a);
    if (status === 401 && !isAuthCall) {
      store.dispatch(endedElsewhere());
      store.dispatch(api.util.resetApiState());
    }
  }
  return result;
};
