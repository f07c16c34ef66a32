// Live presence of users, learned from presence frames and from every list the API returns.
// The people list itself is an RTK Query infinite query; this slice overlays what changed since:
// presence, and users announced by `user.registered` that no list answer carries yet.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { adminApi } from '../../api/admin';
import { api } from '../../api/http';
import type { UserId, UserRef, UserSummary } from '../../api/types';

export interface Presence {
  online: boolean;
  lastSeenAt: string | null;
}

export interface UsersState {
  presence: Record<UserId, Presence>;
  /**
   * Users announced by a `user.registered` frame and not listed by a list answer yet: the list
   * refetched on that frame may be answered before the users service has stored them.
   */
  newcomers: UserSummary[];
  /**
   * Accounts known to be disabled (only an admin learns it: their accounts list, their own
   * disable and enable): not offered as group members, since they could not take part.
   */
  disabled: Record<UserId, true>;
}

const initialState: UsersState = { presence: {}, newcomers: [], disabled: {} };

function setDisabled(state: UsersState, id: UserId, disabled: boolean): void {
  if (disabled) state.disabled[id] = true;
  else delete state.disabled[id];
}

export interface PresenceChanged {
  userId: UserId;
  username: string;
  online: boolean;
  lastSeenAt: string | null;
}

const usersSlice = createSlice({
  name: 'users',
  initialState,
  reducers: {
    presenceChanged(state, { payload }: PayloadAction<PresenceChanged>) {
      state.presence[payload.userId] = { online: payload.online, lastSeenAt: payload.lastSeenAt };
    },
    /** A `user.registered` frame. */
    userRegistered(state, { payload }: PayloadAction<UserRef>) {
      if (state.newcomers.some((u) => u.id === payload.id)) return;
      state.newcomers.push({ id: payload.id, username: payload.username, online: false, lastSeenAt: null });
    },
  },
  extraReducers: (builder) => {
    // A fresh list answer is newer than older frames: forget overrides for the users it carries.
    builder.addMatcher(api.endpoints.users.matchFulfilled, (state, { payload }) => {
      const listed = new Set<UserId>();
      for (const page of payload.pages) for (const u of page.users) listed.add(u.id);
      for (const id of listed) delete state.presence[id];
      state.newcomers = state.newcomers.filter((u) => !listed.has(u.id));
    });
    builder.addMatcher(adminApi.endpoints.adminUsers.matchFulfilled, (state, { payload }) => {
      for (const page of payload.pages) for (const u of page.users) setDisabled(state, u.id, u.disabled);
    });
    builder.addMatcher(adminApi.endpoints.setUserDisabled.matchFulfilled, (state, { meta }) => {
      setDisabled(state, meta.arg.originalArgs.id, meta.arg.originalArgs.disabled);
    });
  },
});

export const { presenceChanged, userRegistered } = usersSlice.actions;
export const usersReducer = usersSlice.reducer;

interface WithUsers {
  users: UsersState;
}

/** A user with any newer presence applied. */
export function withPresence(state: WithUsers, user: UserSummary): UserSummary {
  const p = state.users.presence[user.id];
  if (!p || (p.online === user.online && p.lastSeenAt === user.lastSeenAt)) return user;
  return { ...user, online: p.online, lastSeenAt: p.lastSeenAt };
}

/** The people list's order: online first, then by username (case-insensitive). */
export function comparePeople(a: UserSummary, b: UserSummary): number {
  if (a.online !== b.online) return a.online ? -1 : 1;
  const x = a.username.toLowerCase();
  const y = b.username.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * All loaded pages of the list for username prefix `q`, with the newcomers it does not carry yet,
 * deduplicated, with live presence, in the list's order.
 */
export function mergePeople(state: WithUsers, pages: readonly { users: UserSummary[] }[], q = ''): UserSummary[] {
  const seen = new Set<string>();
  const out: UserSummary[] = [];
  const prefix = q.toLowerCase();
  const newcomers = state.users.newcomers.filter((u) => u.username.toLowerCase().startsWith(prefix));
  for (const page of [...pages, { users: newcomers }]) {
    for (const u of page.users) {
      if (seen.has(u.id)) continue;
      seen.add(u.id);
      out.push(withPresence(state, u));
    }
  }
  return out.sort(comparePeople);
}
