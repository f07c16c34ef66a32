import { createSelector } from '@reduxjs/toolkit';
import type { Conversation, ConversationId, Message } from '../../api/types';
import type { ChatState, PendingMessage } from './chatSlice';

interface WithChat {
  chat: ChatState;
}

/** What the ticks of one of my messages show. */
export type Tick = 'pending' | 'failed' | 'sent' | 'delivered' | 'read';

export type TimelineItem =
  | { kind: 'message'; key: string; message: Message }
  | { kind: 'pending'; key: string; pending: PendingMessage };

const selectConversationsMap = (s: WithChat) => s.chat.conversations;

function activity(c: Conversation): string {
  return c.lastMessage?.sentAt ?? '';
}

/** Most recent activity first (conversations without messages last). */
export const selectConversations = createSelector([selectConversationsMap], (map) =>
  Object.values(map).sort((a, b) => {
    const x = activity(a);
    const y = activity(b);
    return x === y ? 0 : x < y ? 1 : -1;
  }),
);

export const selectTotalUnread = createSelector([selectConversationsMap], (map) =>
  Object.values(map).reduce((n, c) => n + Math.max(0, c.unread), 0),
);

export const selectConversation = (s: WithChat, id: ConversationId | null): Conversation | undefined =>
  id ? s.chat.conversations[id] : undefined;

export const selectConversationWith = (s: WithChat, peerId: string): Conversation | undefined =>
  Object.values(s.chat.conversations).find((c) => c.peer.id === peerId);

const EMPTY: Message[] = [];
const selectItems = (s: WithChat, id: ConversationId) => s.chat.messages[id]?.items ?? EMPTY;
const selectPending = (s: WithChat) => s.chat.pending;

/** Own messages still on their way, for one conversation, oldest first. */
export const selectPendingFor = createSelector(
  [selectPending, (_: WithChat, id: ConversationId) => id],
  (pending, id) =>
    Object.values(pending)
      .filter((p) => p.conversationId === id)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0)),
);

/** Stored messages, then pending ones: what the chat view lists. */
export const makeSelectTimeline = () =>
  createSelector([selectItems, selectPendingFor], (items, pending): TimelineItem[] => {
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

/** The ticks of a stored message of mine, from the peer's watermarks. */
export function tickFor(seq: number, conv: Pick<Conversation, 'peerDeliveredSeq' | 'peerReadSeq'> | undefined): Tick {
  if (!conv) return 'sent';
  if (seq <= conv.peerReadSeq) return 'read';
  if (seq <= conv.peerDeliveredSeq) return 'delivered';
  return 'sent';
}

export function pendingTick(p: PendingMessage): Tick {
  if (p.status === 'failed') return 'failed';
  if (p.status === 'accepted') return 'sent';
  return 'pending';
}
