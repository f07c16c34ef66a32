// After a (re)connect or a `resync` frame: ask the server what we missed, by seq and by change
// counter, so nothing is lost, nothing doubles, and every edit, delete and reaction shows.
import { api } from '../api/http';
import type { Conversation } from '../api/types';
import { fillChanges, fillConversation } from '../features/chat/history';
import type { SocketDispatch } from './state';

/** Refreshes the conversation list, then brings every opened conversation up to its lastSeq and lastChange. Returns the list. */
export async function catchUp(dispatch: SocketDispatch): Promise<Conversation[] | null> {
  const result = await dispatch(api.endpoints.conversations.initiate(undefined, { subscribe: false, forceRefetch: true }));
  if (!result.data) return null;
  const conversations = result.data.conversations;
  await Promise.all(
    conversations.map((c) => Promise.all([dispatch(fillConversation(c.id, c.lastSeq)), dispatch(fillChanges(c.id, c.lastChange))])),
  );
  return conversations;
}
