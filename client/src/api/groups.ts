// Group conversations: rename, add members, remove a member (or leave). Creating one is
// `createConversation` with `{title, memberIds}` (http.ts).
import { api } from './http';
import type { ConversationId, ConversationResponse, UserId } from './types';

const path = (id: ConversationId) => `/api/conversations/${encodeURIComponent(id)}`;

export const groupsApi = api.injectEndpoints({
  endpoints: (build) => ({
    renameConversation: build.mutation<ConversationResponse, { id: ConversationId; title: string }>({
      query: ({ id, title }) => ({ url: path(id), method: 'PATCH', body: { title } }),
    }),
    addMembers: build.mutation<ConversationResponse, { id: ConversationId; userIds: UserId[] }>({
      query: ({ id, userIds }) => ({ url: `${path(id)}/members`, method: 'POST', body: { userIds } }),
    }),
    /** The owner removes anyone; anyone removes themselves (leaves). */
    removeMember: build.mutation<void, { id: ConversationId; userId: UserId }>({
      query: ({ id, userId }) => ({ url: `${path(id)}/members/${encodeURIComponent(userId)}`, method: 'DELETE' }),
    }),
  }),
});

export const { useRenameConversationMutation, useAddMembersMutation, useRemoveMemberMutation } = groupsApi;
