// After a (re)connect: ask the server what we missed, by seq, so nothing is lost and nothing doubles.
import { api } from '../api/http';
import type { Conversation, ConversationId } from '../api/types';
import type { SocketDispatch, SocketRootState } from './state';

const PAGE = 100;
/** Bound on pages fetched per conversation in one catch-up (100 × 100 messages). */
const MAX_PAGES = 100;

/**
 * Fetches `after=<syncedSeq>` pages for one opened conversation until it is synced to `lastSeq`.
 * The chat slice merges each page (deduplicating by seq and replacing own pending copies by
 * clientId), so this may overlap freely with live frames.
 */
export async function fillConversation(
  dispatch: SocketDispatch,
  getState: () => SocketRootState,
  conversationId: ConversationId,
  lastSeq: number,
): Promise<void> {
  for (let page = 0; page < MAX_PAGES; page++) {
    const entry = getState().chat.messages[conversationId];
    if (!entry) return; // never opened: it loads its newest page when opened
    const after = entry.syncedSeq;
    if (after >= lastSeq) return;
    const result = await dispatch(
      api.endpoints.messages.initiate({ conversationId, after, limit: PAGE }, { subscribe: false, forceRefetch: true }),
    );
    if (!result.data) return;
    const now = getState().chat.messages[conversationId]?.syncedSeq ?? after;
    if (now <= after || !result.data.hasMore) return;
  }
}

/** Refreshes the conversation list, then fills every opened conversation up to its lastSeq. Returns the list. */
export async function catchUp(dispatch: SocketDispatch, getState: () => SocketRootState): Promise<Conversation[] | null> {
  const result = await dispatch(api.endpoints.conversations.initiate(undefined, { subscribe: false, forceRefetch: true }));
  if (!result.data) return null;
  const conversations = result.data.conversations;
  await Promise.all(conversations.map((c) => fillConversation(dispatch, getState, c.id, c.lastSeq)));
  return conversations;
}
