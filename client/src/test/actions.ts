// Fulfilled actions as RTK Query dispatches them (only the fields the reducers read), and a
// reducer runner, for slice tests that need no store.
import type { ChangesPage, Conversation, MessagesPage, NotificationsPage } from '../api/types';
import type { MessagesArgs } from '../api/http';
import { chatReducer, type ChatState } from '../features/chat/chatSlice';
import { alice } from './fakes';

function fulfilled(endpointName: string, originalArgs: unknown, payload: unknown, requestId = 'r') {
  return {
    type: 'api/executeQuery/fulfilled',
    payload,
    meta: { arg: { endpointName, originalArgs, type: 'query' }, requestStatus: 'fulfilled', requestId, fulfilledTimeStamp: 0, baseQueryMeta: {}, RTK_autoBatch: true },
  };
}

/** A request started (RTK Query's pending action). */
function pending(endpointName: string, originalArgs: unknown, requestId: string) {
  return {
    type: 'api/executeQuery/pending',
    payload: undefined,
    meta: { arg: { endpointName, originalArgs, type: 'query' }, requestStatus: 'pending', requestId, startedTimeStamp: 0, RTK_autoBatch: true },
  };
}

export const conversationsRequested = (requestId: string) => pending('conversations', undefined, requestId);
/** The conversation list's answer; with the `requestId` of a `conversationsRequested` when the test says when it was asked. */
export const conversationsLoaded = (conversations: Conversation[], requestId?: string) => fulfilled('conversations', undefined, { conversations }, requestId);
export const pageLoaded = (args: MessagesArgs, page: MessagesPage) => fulfilled('messages', args, page);
export const changesLoaded = (args: { conversationId: string; since: number }, page: ChangesPage) => fulfilled('changes', args, page);
export const notificationsLoaded = (page: NotificationsPage) => fulfilled('notifications', undefined, page);
export const signedInAs = (id: string) => fulfilled('currentUser', undefined, { currentUser: { ...alice, id } });

export function reduce(...actions: { type: string }[]): ChatState {
  return actions.reduce((s, a) => chatReducer(s, a as never), chatReducer(undefined, { type: 'init' }));
}
