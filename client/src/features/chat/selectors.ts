import { createSelector } from '@reduxjs/toolkit';
import type { Conversation, ConversationId, Message } from '../../api/types';
import type { ChatState, PendingMessage } from './chatSlice';
import type { Tick } from './conversation';
import { uuidv7Time } from '../../lib/uuid';

export { tickFor, type Tick } from './conversation';

interface WithChat {
  chat: ChatState;
}

export type TimelineItem =
  | { kind: 'message'; key: string; message: Message }
  | { kind: 'pending'; key: string; pending: PendingMessage };

const selectConversationsMap = (s: WithChat) => s.chat.conversations;

/** The last message's time, or for a conversation without messages when it was created (its id is a v7 UUID). */
function activity(c: Conversation): string {
  return c.lastMessage?.sentAt ?? uuidv7Time(c.id) ?? '';
}

/** Most recent activity first: a group just created comes first, like a new message. */
export const selectConversations = createSelector([selectConversationsMap], (map) =>
  Object.values(map).sort((a, b) => {
    const x = activity(a);
    const y = activity(b);
    return x === y ? 0 : x < y ? 1 : -1;
  }),
);

/** Unread messages of every conversation but the muted ones (which ask for no attention). */
export const selectTotalUnread = createSelector(
  [selectConversationsMap, (_: WithChat, muted: readonly ConversationId[] = []) => muted],
  (map, muted) => Object.values(map).reduce((n, c) => (muted.includes(c.id) ? n : n + Math.max(0, c.unread)), 0),
);

export const selectConversation = (s: WithChat, id: ConversationId | null): Conversation | undefined =>
  id ? s.chat.conversations[id] : undefined;

/** My direct conversation with `peerId`, if there is one. */
export const selectConversationWith = (s: WithChat, peerId: string): Conversation | undefined =>
  Object.values(s.chat.conversations).find((c) => c.kind === 'direct' && c.peer.id === peerId);

const EMPTY: Message[] = [];
const NO_PENDING: PendingMessage[] = [];
const selectItems = (s: WithChat, id: ConversationId) => s.chat.messages[id]?.items ?? EMPTY;
const selectPending = (s: WithChat) => s.chat.pending;
const selectDetached = (s: WithChat, id: ConversationId) => s.chat.messages[id]?.hasMoreAfter ?? false;

/** Own messages still on their way, for one conversation, oldest first. */
export const selectPendingFor = createSelector(
  [selectPending, (_: WithChat, id: ConversationId) => id],
  (pending, id) =>
    Object.values(pending)
      .filter((p) => p.conversationId === id)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0)),
);

/** Pending messages follow the newest stored ones: not shown while the window stops short of them. */
const selectShownPending = createSelector([selectPendingFor, selectDetached], (pending, detached) => (detached ? NO_PENDING : pending));

/** Stored messages, then pending ones: what the chat view lists. */
export const makeSelectTimeline = () =>
  createSelector([selectItems, selectShownPending], (items, pending): TimelineItem[] => {
    const out: TimelineItem[] = new Array(items.length + pending.length);
    for (let i = 0; i < items.length; i++) {
      const m = items[i]!;
      out[i] = { kind: 'message', key: m.id, message: m };
    }
    for (let j = 0; j < pending.length; j++) {
      const p = pending[j]!;
      out[items.length + j] = { kind: 'pending', key: p.clientId, pending: p };
    }
    return out;
  });

export function pendingTick(p: PendingMessage): Tick {
  if (p.status === 'failed') return 'failed';
  if (p.status === 'accepted') return 'sent';
  return 'pending';
}
