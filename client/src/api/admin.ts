// The admin's HTTP calls (`/api/admin/*`), injected into the one RTK Query API.
import { api } from './http';
import type {
  AdminSettingsResponse,
  AdminUserResponse,
  AdminUsersPage,
  CreateInviteRequest,
  InviteResponse,
  InvitesList,
  PasswordResetResponse,
  Role,
  UpdateAdminSettings,
  UserId,
} from './types';

export const ADMIN_USERS_PAGE = 50;

export const adminApi = api.enhanceEndpoints({ addTagTypes: ['AdminSettings', 'AdminUsers', 'AdminInvites'] }).injectEndpoints({
  endpoints: (build) => ({
    adminSettings: build.query<AdminSettingsResponse, void>({
      query: () => '/api/admin/settings',
      providesTags: ['AdminSettings'],
    }),
    updateAdminSettings: build.mutation<AdminSettingsResponse, UpdateAdminSettings>({
      query: (body) => ({ url: '/api/admin/settings', method: 'PATCH', body }),
      // The answer is the settings as they now are.
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        const { data } = await queryFulfilled.catch(() => ({ data: null }));
        if (data) dispatch(adminApi.util.updateQueryData('adminSettings', undefined, () => data));
      },
    }),
    createInvite: build.mutation<InviteResponse, CreateInviteRequest>({
      query: (body) => ({ url: '/api/admin/invites', method: 'POST', body }),
      invalidatesTags: ['AdminInvites'],
    }),
    adminInvites: build.query<InvitesList, void>({
      query: () => '/api/admin/invites',
      providesTags: ['AdminInvites'],
    }),
    /** Its code signs nobody up any more. */
    revokeInvite: build.mutation<void, string>({
      query: (id) => ({ url: `/api/admin/invites/${encodeURIComponent(id)}`, method: 'DELETE' }),
      invalidatesTags: ['AdminInvites'],
    }),
    adminUsers: build.infiniteQuery<AdminUsersPage, void, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (lastPage) => lastPage.nextCursor,
      },
      query: ({ pageParam }) => ({
        url: '/api/admin/users',
        params: { limit: ADMIN_USERS_PAGE, ...(pageParam ? { cursor: pageParam } : {}) },
      }),
      providesTags: ['AdminUsers'],
    }),
    /** Makes an account an admin, or a member again (never one's own). */
    setUserRole: build.mutation<AdminUserResponse, { id: UserId; role: Role }>({
      query: ({ id, role }) => ({ url: `/api/admin/users/${encodeURIComponent(id)}`, method: 'PATCH', body: { role } }),
      invalidatesTags: ['AdminUsers'],
    }),
    /** A link that sets the account's password once (never one's own); a newer one replaces it. The list shows until when it works. */
    createPasswordReset: build.mutation<PasswordResetResponse, UserId>({
      query: (id) => ({ url: `/api/admin/users/${encodeURIComponent(id)}/password-reset`, method: 'POST' }),
      invalidatesTags: ['AdminUsers'],
    }),
    /** The account's reset link sets no password any more. A 404 (it was used or expired meanwhile) refreshes the list too. */
    revokePasswordReset: build.mutation<void, UserId>({
      query: (id) => ({ url: `/api/admin/users/${encodeURIComponent(id)}/password-reset`, method: 'DELETE' }),
      invalidatesTags: ['AdminUsers'],
    }),
    setUserDisabled: build.mutation<void, { id: UserId; disabled: boolean }>({
      query: ({ id, disabled }) => ({
        url: `/api/admin/users/${encodeURIComponent(id)}/${disabled ? 'disable' : 'enable'}`,
        method: 'POST',
      }),
      invalidatesTags: ['AdminUsers'],
    }),
  }),
});

export const {
  useAdminSettingsQuery,
  useUpdateAdminSettingsMutation,
  useCreateInviteMutation,
  useAdminInvitesQuery,
  useRevokeInviteMutation,
  useAdminUsersInfiniteQuery,
  useSetUserDisabledMutation,
  useSetUserRoleMutation,
  useCreatePasswordResetMutation,
  useRevokePasswordResetMutation,
} = adminApi;
