// Ends the session in the store when the server no longer accepts it: any 401 `unauthenticated`,
// a currentuser answer of null while we thought we were signed in, or a completed sign-out.
//
// A password change ends every session of the account, this tab's too, a moment before its
// answer brings this tab a new cookie: meanwhile the server refuses the old one (it closes our
// sockets, which then ask who we are, and requests get 401). So while a change is in flight such
// refusals wait for its outcome: once it succeeded, those of requests sent with the old cookie
// are moot and the sockets reconnect with the new one; if it failed, the server is asked again.
// The other tabs of the browser share the cookie: they hear of the change (`SessionTabs`) and
// do the same, and one that signed out before it heard asks again who it is. A tab that finds
// the cookie naming another account (a reset link used elsewhere) starts over as that account.
import type { Middleware, ThunkDispatch, UnknownAction } from '@reduxjs/toolkit';
import { isFulfilled, isPending, isRejected, isRejectedWithValue } from '@reduxjs/toolkit';
import { api, errorCode } from '../api/http';
import { sessionEnded, type SessionEnd, type SessionState } from '../features/session/sessionSlice';
import { reconnectRequested } from '../sockets/actions';
import type { SessionTabs, TabNews } from './sessionTabs';
import type { AppDispatch } from './store';

/** How long news of another tab's change holds refusals back at most (that tab may have closed). */
export const OTHER_TAB_CHANGE_MS = 15_000;

export const createSessionGuard = (tabs: SessionTabs | null): Middleware<object, { session: SessionState }> => (store) => {
  /** Requests sent and not answered yet. */
  const inFlight = new Set<string>();
  /** Requests sent with a cookie that a password change has since replaced. */
  const moot = new Set<string>();
  let changing = false;
  /** Another tab's change in flight: the timer that stops waiting for its outcome. */
  let otherTabChanging: ReturnType<typeof setTimeout> | null = null;
  let refusedWhileChanging = false;
  /** Signed out by the reader in this tab: another tab's news of a new cookie does not sign it back in. */
  let signedOutHere = false;

  /** Signed out here (no reason to give), or refused: the sign-in page then says why (as a socket's close announced it, if one did). */
  const end = (because?: SessionEnd) => {
    store.dispatch(sessionEnded(because && { because }));
    store.dispatch(api.util.resetApiState());
  };
  const refused = (requestId: string | undefined) => {
    if (requestId !== undefined && moot.has(requestId)) return;
    if (changing || otherTabChanging) refusedWhileChanging = true;
    else end(store.getState().session.ended ?? 'ended');
  };
  const askAgain = () => {
    const dispatch = store.dispatch as ThunkDispatch<unknown, unknown, UnknownAction>;
    void dispatch(api.endpoints.currentUser.initiate(undefined, { subscribe: false, forceRefetch: true }));
  };

  /**
   * The browser's cookie now names another account (a reset link used in another tab): nothing
   * of the one this tab shows may stay next to it. The store starts over, as the new account.
   */
  const accountSwitched = () => {
    end();
    askAgain();
  };
  /** The cookie is a new session of `user`: what was refused meanwhile is moot; reconnect. */
  const cookieReplaced = (user: SessionState['user']) => {
    const mine = store.getState().session.user?.id;
    if (user && mine && user.id !== mine) return accountSwitched();
    for (const id of inFlight) moot.add(id);
    // Who we are, again: a "nobody" answered meanwhile (moot, but cached) must not stay.
    if (user) void (store.dispatch as AppDispatch)(api.util.upsertQueryData('currentUser', undefined, { currentUser: user }));
    store.dispatch(reconnectRequested());
  };
  const otherTabSettled = () => {
    if (otherTabChanging) clearTimeout(otherTabChanging);
    otherTabChanging = null;
  };
  tabs?.listen((news: TabNews) => {
    if (news.type === 'passwordChanging') {
      otherTabSettled();
      otherTabChanging = setTimeout(() => {
        otherTabChanging = null;
        if (refusedWhileChanging && !changing) askAgain();
      }, OTHER_TAB_CHANGE_MS);
    } else if (news.type === 'passwordChanged') {
      otherTabSettled();
      // Signed out already (the news came late): the cookie may well be ours again, unless the
      // reader signed out here on purpose.
      if (store.getState().session.status === 'signedOut') {
        if (!signedOutHere) askAgain();
      } else cookieReplaced(news.user);
    } else {
      otherTabSettled();
      if (refusedWhileChanging && !changing) askAgain();
    }
  });

  return (next) => (action) => {
    const wasSignedIn = store.getState().session.status === 'signedIn';
    const signedInAs = store.getState().session.user?.id;
    const result = next(action);
    const a = action as UnknownAction;
    const requestId = (a.meta as { requestId?: string } | undefined)?.requestId;
    const settled = isFulfilled(a) || isRejected(a);
    if (requestId !== undefined && isPending(a)) inFlight.add(requestId);
    if (requestId !== undefined && settled) inFlight.delete(requestId);

    // A reset link used in this tab sets a new cookie for the browser, like a change does: the
    // other tabs hear of it (this one loads afresh).
    if (api.endpoints.resetPassword.matchPending(a)) tabs?.tell({ type: 'passwordChanging' });
    else if (api.endpoints.resetPassword.matchFulfilled(a)) tabs?.tell({ type: 'passwordChanged', user: a.payload.user });
    else if (api.endpoints.resetPassword.matchRejected(a)) tabs?.tell({ type: 'passwordUnchanged' });

    if (api.endpoints.changePassword.matchPending(a)) {
      changing = true;
      refusedWhileChanging = false;
      tabs?.tell({ type: 'passwordChanging' });
    } else if (api.endpoints.changePassword.matchFulfilled(a)) {
      changing = false;
      cookieReplaced(a.payload.user);
      tabs?.tell({ type: 'passwordChanged', user: a.payload.user });
    } else if (api.endpoints.changePassword.matchRejected(a)) {
      changing = false;
      tabs?.tell({ type: 'passwordUnchanged' });
      if (refusedWhileChanging && !otherTabChanging) askAgain();
    }

    if (api.endpoints.signout.matchFulfilled(a) || api.endpoints.signout.matchRejected(a)) {
      signedOutHere = true;
      end();
    } else if (wasSignedIn && api.endpoints.currentUser.matchFulfilled(a) && a.payload.currentUser === null) {
      refused(requestId);
    } else if (wasSignedIn && api.endpoints.currentUser.matchFulfilled(a) && signedInAs && a.payload.currentUser?.id !== signedInAs) {
      // Asked who we are (a socket came back), and the browser's cookie is someone else's now.
      accountSwitched();
    } else if (wasSignedIn && isRejectedWithValue(a)) {
      const status = (a.payload as { status?: unknown } | undefined)?.status;
      const isAuthCall = api.endpoints.signin.matchRejected(a) || api.endpoints.signup.matchRejected(a);
      // A wrong current password (changing it) says nothing about the session.
      if (status === 401 && !isAuthCall && errorCode(a.payload) !== 'invalid_credentials') refused(requestId);
    }
    if (requestId !== undefined && settled) moot.delete(requestId);
    if (store.getState().session.status === 'signedIn') signedOutHere = false;
    return result;
  };
};
