// Blocking: the users I block, and blocking or unblocking one.
import { api } from './http';
import type { BlockedUsers, UserId } from './types';

export const blocksApi = api.enhanceEndpoints({ addTagTypes: ['Blocked'] }).injectEndpoints({
  endpoints: (build) => ({
    blockedUsers: build.query<BlockedUsers, void>({
      query: () => '/api/users/blocked',
      providesTags: ['Blocked'],
    }),
    block: build.mutation<void, UserId>({
      query: (id) => ({ url: `/api/users/${encodeURIComponent(id)}/block`, method: 'POST' }),
      invalidatesTags: ['Blocked'],
    }),
    unblock: build.mutation<void, UserId>({
      query: (id) => ({ url: `/api/users/${encodeURIComponent(id)}/block`, method: 'DELETE' }),
      invalidatesTags: ['Blocked'],
    }),
  }),
});

export const { useBlockedUsersQuery, useBlockMutation, useUnblockMutation } = blocksApi;
