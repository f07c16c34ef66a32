// Every username this client has seen, by id. A former member's messages stay in a group's
// history after they left or were removed, and the conversation then no longer lists them: their
// name comes from here (the users directory, presence, conversations, notifications). Usernames
// never change, so a name once seen is kept for the session.
import { createSlice, isAnyOf } from '@reduxjs/toolkit';
import { groupsApi } from '../../api/groups';
import { api, useUsersByIdsQuery } from '../../api/http';
import { MAX_PAGE } from '../../api/generated/limits';
import { useAppSelector } from '../../app/hooks';
import type { Conversation, UserId } from '../../api/types';
import { conversationReceived } from '../chat/chatSlice';
import { memberNames } from '../chat/conversation';
import { notificationReceived } from '../notifications/notificationsSlice';
import { signedInMatcher } from '../session/sessionSlice';
import { presenceChanged, userRegistered } from './usersSlice';

export type NamesState = Record<UserId, string>;

const initialState: NamesState = {};

const conversationAnswered = isAnyOf(
  api.endpoints.createConversation.matchFulfilled,
  groupsApi.endpoints.renameConversation.matchFulfilled,
  groupsApi.endpoints.addMembers.matchFulfilled,
);

function learnConversation(state: NamesState, c: Conversation): void {
  Object.assign(state, memberNames(c));
}

const namesSlice = createSlice({
  name: 'names',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder
      .addCase(presenceChanged, (state, { payload }) => {
        state[payload.userId] = payload.username;
      })
      .addCase(userRegistered, (state, { payload }) => {
        state[payload.id] = payload.username;
      })
      .addCase(conversationReceived, (state, { payload }) => learnConversation(state, payload))
      .addCase(notificationReceived, (state, { payload }) => {
        state[payload.from.id] = payload.from.username;
      })
      .addMatcher(signedInMatcher, (state, { payload }) => {
        state[payload.user.id] = payload.user.username;
      })
      .addMatcher(api.endpoints.currentUser.matchFulfilled, (state, { payload }) => {
        if (payload.currentUser) state[payload.currentUser.id] = payload.currentUser.username;
      })
      .addMatcher(api.endpoints.users.matchFulfilled, (state, { payload }) => {
        for (const page of payload.pages) for (const u of page.users) state[u.id] = u.username;
      })
      .addMatcher(api.endpoints.usersByIds.matchFulfilled, (state, { payload }) => {
        for (const u of payload.users) state[u.id] = u.username;
      })
      .addMatcher(api.endpoints.conversations.matchFulfilled, (state, { payload }) => {
        for (const c of payload.conversations) learnConversation(state, c);
      })
      .addMatcher(conversationAnswered, (state, { payload }) => learnConversation(state, payload.conversation))
      .addMatcher(api.endpoints.notifications.matchFulfilled, (state, { payload }) => {
        for (const n of payload.notifications) state[n.from.id] = n.from.username;
      });
  },
});

export const namesReducer = namesSlice.reducer;

export const selectKnownNames = (s: { names: NamesState }): NamesState => s.names;

/** Names for a conversation's messages: its members as it lists them, then anyone seen before (former members). */
export function senderNames(known: NamesState, c: Conversation | undefined): Record<UserId, string> {
  return { ...known, ...memberNames(c) };
}

/**
 * Asks the users directory for the names among `ids` this client has not seen yet: former
 * members, met only in a group's history. One request per distinct set, cached by RTK Query.
 */
export function useNamesOf(ids: readonly UserId[]): void {
  const known = useAppSelector(selectKnownNames);
  const unknown = [...new Set(ids)].filter((id) => known[id] === undefined).sort().slice(0, MAX_PAGE);
  useUsersByIdsQuery(unknown, { skip: unknown.length === 0 });
}
