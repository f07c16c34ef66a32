// Full-text search over the messages of the conversations I am in, newest first.
import { api } from './http';
import type { ConversationId, SearchResults } from './types';

export const SEARCH_PAGE = 20;

export interface SearchArgs {
  q: string;
  conversationId?: ConversationId;
}

export const searchApi = api.injectEndpoints({
  endpoints: (build) => ({
    searchMessages: build.infiniteQuery<SearchResults, SearchArgs, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (lastPage) => lastPage.nextCursor,
      },
      query: ({ queryArg, pageParam }) => ({
        url: '/api/search',
        params: {
          q: queryArg.q,
          limit: SEARCH_PAGE,
          ...(queryArg.conversationId ? { conversationId: queryArg.conversationId } : {}),
          ...(pageParam ? { cursor: pageParam } : {}),
        },
      }),
      // Results follow edits and deletes only when asked again: keep them briefly.
      keepUnusedDataFor: 30,
    }),
  }),
});

export const { useSearchMessagesInfiniteQuery } = searchApi;
