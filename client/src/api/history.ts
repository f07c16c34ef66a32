// History beyond pages by seq (http.ts `messages`): what changed since a change counter, and
// one message by seq (a quoted message outside the loaded window).
import { api } from './http';
import type { ChangesPage, ConversationId, Message, MessagesPage } from './types';

export const CHANGES_PAGE = 100;

const path = (id: ConversationId) => `/api/conversations/${encodeURIComponent(id)}`;

export const historyApi = api.injectEndpoints({
  endpoints: (build) => ({
    changes: build.query<ChangesPage, { conversationId: ConversationId; since: number }>({
      query: ({ conversationId, since }) => ({ url: `${path(conversationId)}/changes`, params: { since, limit: CHANGES_PAGE } }),
      // Applied to the chat slice; the cache itself is not needed afterwards.
      keepUnusedDataFor: 0,
    }),
    /** The message at `seq`, or null when there is none. A separate endpoint: it does not touch the loaded window. */
    messageAt: build.query<Message | null, { conversationId: ConversationId; seq: number }>({
      query: ({ conversationId, seq }) => ({ url: `${path(conversationId)}/messages`, params: { after: seq - 1, limit: 1 } }),
      transformResponse: (page: MessagesPage, _meta, { seq }) => page.messages.find((m) => m.seq === seq) ?? null,
    }),
  }),
});

export const { useMessageAtQuery } = historyApi;
