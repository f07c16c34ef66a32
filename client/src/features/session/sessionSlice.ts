import { createAction, createSlice, isAnyOf } from '@reduxjs/toolkit';
import { api } from '../../api/http';
import type { User } from '../../api/types';

export type SessionStatus = 'unknown' | 'signedIn' | 'signedOut' | 'unreachable';

export interface SessionState {
  status: SessionStatus;
  user: User | null;
}

const initialState: SessionState = { status: 'unknown', user: null };

/** The session is over (signed out here, or the server stopped accepting the cookie). Resets the store. */
export const sessionEnded = createAction('session/ended');

export const signedInMatcher = isAnyOf(api.endpoints.signin.matchFulfilled, api.endpoints.signup.matchFulfilled);

const sessionSlice = createSlice({
  name: 'session',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder
      .addCase(sessionEnded, () => ({ status: 'signedOut', user: null }))
      .addMatcher(api.endpoints.currentUser.matchFulfilled, (state, { payload }) => {
        if (payload.currentUser) {
          state.user = payload.currentUser;
          state.status = 'signedIn';
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
      .addMatcher(signedInMatcher, (state, { payload }) => {
        state.user = payload.user;
        state.status = 'signedIn';
      });
  },
});

export const sessionReducer = sessionSlice.reducer;
