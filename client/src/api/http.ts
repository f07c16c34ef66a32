// Every HTTP call of the client, as one RTK Query API. Slices listen to these endpoints'
// fulfilled actions to keep their own live state (which sockets also update).
import { createApi, fetchBaseQuery, type FetchBaseQueryError, type FetchBaseQueryMeta } from '@reduxjs/toolkit/query/react';
import { asSentence } from '../lib/sentence';
import type {
  AttachmentLimits,
  ChangePasswordRequest,
  ResetPasswordRequest,
  ConversationResponse,
  ConversationsResponse,
  CurrentUserResponse,
  ConversationId,
  CreateConversationRequest,
  MarkNotificationsRead,
  MessagesPage,
  NotificationsPage,
  SigninRequest,
  SignupRequest,
  UserId,
  UserResponse,
  UsersPage,
} from './types';

/** Absolute origin in a browser; a fixed one where there is no `location` (unit tests). */
const origin = typeof location !== 'undefined' && location.origin !== 'null' ? location.origin : 'http://localhost';

export interface MessagesArgs {
  conversationId: ConversationId;
  before?: number;
  after?: number;
  limit?: number;
  /** Not sent: this page replaces the loaded window (opening history around a message). */
  replace?: boolean;
}

export interface UsersArgs {
  q: string;
  limit?: number;
}

/** A refusal, with the seconds its `Retry-After` header asks to wait (429 and 503 carry one). */
export type Refusal = FetchBaseQueryError & { retryAfter?: number };

function withRetryAfter(error: FetchBaseQueryError, meta: FetchBaseQueryMeta | undefined): Refusal {
  // The server sends whole seconds (never an HTTP date).
  const seconds = Number(meta?.response?.headers.get('Retry-After') ?? NaN);
  return Number.isFinite(seconds) && seconds > 0 ? { ...error, retryAfter: seconds } : error;
}

export const USERS_PAGE = 30;
export const MESSAGES_PAGE = 50;

export const api = createApi({
  reducerPath: 'api',
  baseQuery: fetchBaseQuery({
    baseUrl: origin,
    credentials: 'same-origin',
    // Looked up on each call so tests can swap `globalThis.fetch`.
    fetchFn: (input, init) => globalThis.fetch(input, init),
  }),
  tagTypes: ['Users', 'Notifications', 'AttachmentLimits'],
  endpoints: (build) => ({
    currentUser: build.query<CurrentUserResponse, void>({
      query: () => '/api/auth/currentuser',
    }),
    signup: build.mutation<UserResponse, SignupRequest>({
      query: (body) => ({ url: '/api/auth/signup', method: 'POST', body }),
      transformErrorResponse: withRetryAfter,
    }),
    signin: build.mutation<UserResponse, SigninRequest>({
      query: (body) => ({ url: '/api/auth/signin', method: 'POST', body }),
      transformErrorResponse: withRetryAfter,
    }),
    signout: build.mutation<void, void>({
      query: () => ({ url: '/api/auth/signout', method: 'POST' }),
    }),
    /** Ends every session of the account, this one's too, and answers with a new one for this tab. */
    changePassword: build.mutation<UserResponse, ChangePasswordRequest>({
      query: (body) => ({ url: '/api/auth/password', method: 'POST', body }),
      transformErrorResponse: withRetryAfter,
    }),
    /** Sets a forgotten password with the code of an admin's reset link, and signs in (the page then loads afresh). */
    resetPassword: build.mutation<UserResponse, ResetPasswordRequest>({
      query: (body) => ({ url: '/api/auth/password-reset', method: 'POST', body }),
      transformErrorResponse: withRetryAfter,
    }),
    users: build.infiniteQuery<UsersPage, UsersArgs, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (lastPage) => lastPage.nextCursor,
      },
      query: ({ queryArg, pageParam }) => ({
        url: '/api/users',
        params: {
          limit: queryArg.limit ?? USERS_PAGE,
          ...(queryArg.q ? { q: queryArg.q } : {}),
          ...(pageParam ? { cursor: pageParam } : {}),
        },
      }),
      providesTags: ['Users'],
    }),
    /** Users by id, whoever they are: for names no list has shown (a former member's). */
    usersByIds: build.query<UsersPage, UserId[]>({
      query: (ids) => ({ url: '/api/users', params: { ids: ids.join(',') } }),
    }),
    conversations: build.query<ConversationsResponse, void>({
      query: () => '/api/conversations',
    }),
    /** `{peerId}` opens (or finds) a direct conversation; `{title, memberIds}` creates a group. */
    createConversation: build.mutation<ConversationResponse, CreateConversationRequest>({
      query: (body) => ({ url: '/api/conversations', method: 'POST', body }),
    }),
    messages: build.query<MessagesPage, MessagesArgs>({
      query: ({ conversationId, before, after, limit }) => ({
        url: `/api/conversations/${encodeURIComponent(conversationId)}/messages`,
        params: {
          limit: limit ?? MESSAGES_PAGE,
          ...(before !== undefined ? { before } : {}),
          ...(after !== undefined ? { after } : {}),
        },
      }),
      // Pages are merged into the chat slice; the cache itself is not needed afterwards.
      keepUnusedDataFor: 0,
    }),
    notifications: build.query<NotificationsPage, void>({
      query: () => ({ url: '/api/notifications', params: { limit: 50 } }),
      providesTags: ['Notifications'],
    }),
    markNotificationsRead: build.mutation<void, MarkNotificationsRead>({
      query: (body) => ({ url: '/api/notifications/read', method: 'POST', body }),
    }),
    /** The largest upload this server takes, and my quota (refreshed after each upload). */
    attachmentLimits: build.query<AttachmentLimits, void>({
      query: () => '/api/attachments/limits',
      providesTags: ['AttachmentLimits'],
    }),
  }),
});

export const {
  useCurrentUserQuery,
  useSignupMutation,
  useSigninMutation,
  useSignoutMutation,
  useChangePasswordMutation,
  useResetPasswordMutation,
  useUsersInfiniteQuery,
  useUsersByIdsQuery,
  useConversationsQuery,
  useCreateConversationMutation,
  useNotificationsQuery,
  useMarkNotificationsReadMutation,
  useAttachmentLimitsQuery,
} = api;

/** A readable sentence for a failed request, from the contract's error body when there is one. */
export function errorText(error: unknown): string {
  if (!error || typeof error !== 'object') return 'Something went wrong.';
  const e = error as FetchBaseQueryError;
  if (e.status === 'FETCH_ERROR') return 'Cannot reach the server. Check your connection.';
  if (e.status === 'PARSING_ERROR' || e.status === 'TIMEOUT_ERROR') return 'The server answered unexpectedly.';
  const data = (e as { data?: unknown }).data;
  if (data && typeof data === 'object' && 'error' in data) {
    const detail = (data as { error?: { message?: unknown } }).error;
    if (detail && typeof detail.message === 'string' && detail.message.trim()) return asSentence(detail.message);
  }
  return 'Something went wrong.';
}

/** The contract's error code of a failed request, if any. */
export function errorCode(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const data = (error as { data?: unknown }).data;
  if (data && typeof data === 'object' && 'error' in data) {
    const code = (data as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

