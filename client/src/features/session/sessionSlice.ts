import { createAction, createSlice, isAnyOf } from '@reduxjs/toolkit';
import { api } from '../../api/http';
import type { User } from '../../api/types';

export type SessionStatus = 'unknown' | 'signedIn' | 'signedOut' | 'unreachable';

/** Why a session ended without a sign-out in this tab: the account was disabled, the session expired, or it was ended elsewhere. */
export type SessionEnd = 'disabled' | 'expired' | 'ended';

export interface SessionState {
  status: SessionStatus;
  user: User | null;
  /** While signed in: what the server announced when it closed a socket. Signed out: why the last session ended (the sign-in page says it), or null. */
  ended: SessionEnd | null;
}

const initialState: SessionState = { status: 'unknown', user: null, ended: null };

/** The session is over (signed out here: no reason; or the server stopped accepting the cookie). Resets the store. */
export const sessionEnded = createAction<{ because: SessionEnd } | undefined>('session/ended');

/** The server closed a socket because the session ended, saying why (its close reason); the end itself is confirmed by asking who we are. */
export const sessionEndAnnounced = createAction<SessionEnd>('session/endAnnounced');

/** The session end a server's close reason names (kit's `SessionEnd::reason`), if it names one. */
export function sessionEndOf(closeReason: string): SessionEnd | null {
  switch (closeReason) {
    case 'account disabled':
      return 'disabled';
    case 'session expired':
      return 'expired';
    case 'session ended':
      return 'ended';
    default:
      return null;
  }
}

export const signedInMatcher = isAnyOf(api.endpoints.signin.matchFulfilled, api.endpoints.signup.matchFulfilled);

const sessionSlice = createSlice({
  name: 'session',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder
      .addCase(sessionEnded, (_, { payload }) => ({ status: 'signedOut', user: null, ended: payload?.because ?? null }))
      .addCase(sessionEndAnnounced, (state, { payload }) => {
        if (state.status === 'signedIn') state.ended = payload;
      })
      .addMatcher(api.endpoints.currentUser.matchFulfilled, (state, { payload }) => {
        if (payload.currentUser) {
          state.user = payload.currentUser;
          state.status = 'signedIn';
          state.ended = null;
        } else if (state.status !== 'signedIn') {
          state.status = 'signedOut';
        }
        // Signed in and now told "nobody": the session guard decides (the answer may be moot,
        // from a cookie a password change just replaced) and ends the session with `sessionEnded`.
      })
      .addMatcher(api.endpoints.currentUser.matchRejected, (state, action) => {
        if (action.meta.condition) return;
        if (state.status === 'unknown') state.status = 'unreachable';
      })
      // The sockets this tab lost to its own password change announced an end that did not come.
      .addMatcher(api.endpoints.changePassword.matchFulfilled, (state) => {
        state.ended = null;
      })
      .addMatcher(signedInMatcher, (state, { payload }) => {
        state.user = payload.user;
        state.status = 'signedIn';
        state.ended = null;
      });
  },
});

export const sessionReducer = sessionSlice.reducer;
