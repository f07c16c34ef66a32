// Muted conversations: the caller's own choice, kept by the notifications store, which then
// creates no notification (nor push) of their messages for them.
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { selectTotalUnread } from '../features/chat/selectors';
import { noticeShown } from '../features/notices/noticesSlice';
import { api, errorText } from './http';
import type { ConversationId, MutedConversations } from './types';

export const mutesApi = api.enhanceEndpoints({ addTagTypes: ['Muted'] }).injectEndpoints({
  endpoints: (build) => ({
    mutedConversations: build.query<MutedConversations, void>({
      query: () => '/api/notifications/muted',
      providesTags: ['Muted'],
    }),
    setMuted: build.mutation<void, { id: ConversationId; muted: boolean }>({
      query: ({ id, muted }) => ({ url: `/api/notifications/muted/${encodeURIComponent(id)}`, method: muted ? 'PUT' : 'DELETE' }),
      // Shown at once; put back if the server refuses.
      async onQueryStarted({ id, muted }, { dispatch, queryFulfilled }) {
        const patch = dispatch(
          mutesApi.util.updateQueryData('mutedConversations', undefined, (draft) => {
            draft.conversationIds = draft.conversationIds.filter((c) => c !== id);
            if (muted) draft.conversationIds.push(id);
          }),
        );
        try {
          await queryFulfilled;
        } catch {
          patch.undo();
        }
      },
    }),
  }),
});

export const { useMutedConversationsQuery, useSetMutedMutation } = mutesApi;

/** The muted conversations' ids (loaded once, kept current by this tab's own changes). */
export function useMutedIds(): ReadonlySet<ConversationId> {
  const { data } = useMutedConversationsQuery();
  return new Set(data?.conversationIds ?? []);
}

/** Whether a conversation is muted, and muting or unmuting it, with a notice when refused. */
export function useMuteToggle(id: ConversationId | undefined) {
  const dispatch = useAppDispatch();
  const { data } = useMutedConversationsQuery();
  const [setMuted] = useSetMutedMutation();
  const muted = id !== undefined && (data?.conversationIds.includes(id) ?? false);
  const toggle = async () => {
    if (id === undefined) return;
    const r = await setMuted({ id, muted: !muted });
    if ('error' in r && r.error) dispatch(noticeShown(errorText(r.error)));
  };
  return { muted, toggle };
}

/** Unread messages of the conversations not muted: what the chats tab and the page title count. */
export function useUnreadNotMuted(): number {
  const { data } = useMutedConversationsQuery();
  return useAppSelector((s) => selectTotalUnread(s, data?.conversationIds));
}
