// Conversations and their messages: loaded by HTTP (RTK Query), kept live by the chat socket.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { api } from '../../api/http';
import type { ClientId, Conversation, ConversationId, Message, UserId, UserSummary } from '../../api/types';
import { presenceChanged } from '../users/usersSlice';
import { signedInMatcher } from '../session/sessionSlice';
import { advanceSynced, mergeMessages } from './timeline';

export interface ConversationMessages {
  /** Loaded messages, ascending by seq, without duplicates. */
  items: Message[];
  /** Older messages exist on the server before `items[0]`. */
  hasMoreBefore: boolean;
  /** Everything from the oldest loaded message up to this seq is loaded (no hole). */
  syncedSeq: number;
  loadingOlder: boolean;
}

/**
 * A message typed here and not yet stored. queued: waiting for the socket. sending: on the wire,
 * not yet accepted. accepted: the server will not lose it (waiting for it to be stored).
 * failed: the user may retry, with the same clientId.
 */
export type PendingStatus = 'queued' | 'sending' | 'accepted' | 'failed';

export interface PendingMessage {
  clientId: ClientId;
  conversationId: ConversationId;
  senderId: UserId;
  body: string;
  createdAt: string;
  status: PendingStatus;
  error: string | null;
}

export interface Typing {
  userId: UserId;
  until: number;
}

export interface ChatState {
  myId: UserId | null;
  conversations: Record<ConversationId, Conversation>;
  conversationsLoaded: boolean;
  /** Only conversations that were opened (their newest page loaded) have an entry. */
  messages: Record<ConversationId, ConversationMessages>;
  /** Own messages not yet stored, by clientId, in the order they were written. */
  pending: Record<ClientId, PendingMessage>;
  typing: Record<ConversationId, Typing>;
  activeId: ConversationId | null;
}

const initialState: ChatState = {
  myId: null,
  conversations: {},
  conversationsLoaded: false,
  messages: {},
  pending: {},
  typing: {},
  activeId: null,
};

export interface Receipt {
  conversationId: ConversationId;
  userId: UserId;
  deliveredSeq: number;
  readSeq: number;
}

/** Merges a conversation as the server sees it into what we know; watermarks only grow. */
function upsertConversation(state: ChatState, incoming: Conversation): void {
  const known = state.conversations[incoming.id];
  if (!known) {
    state.conversations[incoming.id] = { ...incoming };
    return;
  }
  known.peer = incoming.peer;
  if (incoming.lastSeq >= known.lastSeq) {
    known.lastSeq = incoming.lastSeq;
    known.lastMessage = incoming.lastMessage ?? known.lastMessage;
  }
  known.myReadSeq = Math.max(known.myReadSeq, incoming.myReadSeq);
  known.peerDeliveredSeq = Math.max(known.peerDeliveredSeq, incoming.peerDeliveredSeq);
  known.peerReadSeq = Math.max(known.peerReadSeq, incoming.peerReadSeq);
  known.unread = Math.max(0, known.lastSeq - known.myReadSeq);
}

/** A stored message reached us (socket or HTTP): conversation summary, pending copy, typing. */
function noteMessage(state: ChatState, m: Message): void {
  const conv = state.conversations[m.conversationId];
  if (conv && m.seq > conv.lastSeq) {
    conv.lastSeq = m.seq;
    conv.lastMessage = m;
  }
  if (conv && m.senderId === state.myId) {
    // Sending moves the sender's own watermarks to the message: own messages are never unread.
    conv.myReadSeq = Math.max(conv.myReadSeq, m.seq);
  }
  if (conv) conv.unread = Math.max(0, conv.lastSeq - conv.myReadSeq);
  if (state.pending[m.clientId] && m.senderId === state.myId) delete state.pending[m.clientId];
  const typing = state.typing[m.conversationId];
  if (typing && typing.userId === m.senderId) delete state.typing[m.conversationId];
}

function addMessages(state: ChatState, conversationId: ConversationId, messages: readonly Message[]): void {
  const entry = state.messages[conversationId];
  if (entry) {
    mergeMessages(entry.items, messages);
    entry.syncedSeq = advanceSynced(entry.items, entry.syncedSeq);
  }
  for (const m of messages) noteMessage(state, m);
}

function setPeerPresence(state: ChatState, userId: UserId, presence: Pick<UserSummary, 'online' | 'lastSeenAt'>): void {
  for (const c of Object.values(state.conversations)) {
    if (c.peer.id === userId) {
      c.peer.online = presence.online;
      c.peer.lastSeenAt = presence.lastSeenAt;
    }
  }
}

const chatSlice = createSlice({
  name: 'chat',
  initialState,
  reducers: {
    conversationOpened(state, { payload }: PayloadAction<ConversationId | null>) {
      state.activeId = payload;
    },
    messageReceived(state, { payload }: PayloadAction<Message>) {
      addMessages(state, payload.conversationId, [payload]);
    },
    receiptReceived(state, { payload }: PayloadAction<Receipt>) {
      const conv = state.conversations[payload.conversationId];
      if (!conv) return;
      if (payload.userId === state.myId) {
        // Another tab of mine read or received something.
        conv.myReadSeq = Math.max(conv.myReadSeq, payload.readSeq);
        conv.unread = Math.max(0, conv.lastSeq - conv.myReadSeq);
      } else {
        conv.peerDeliveredSeq = Math.max(conv.peerDeliveredSeq, payload.deliveredSeq, payload.readSeq);
        conv.peerReadSeq = Math.max(conv.peerReadSeq, payload.readSeq);
      }
    },
    /** This tab reported `read` up to `seq` (applied at once, the server's receipt confirms it later). */
    readMarked(state, { payload }: PayloadAction<{ conversationId: ConversationId; seq: number }>) {
      const conv = state.conversations[payload.conversationId];
      if (!conv) return;
      conv.myReadSeq = Math.max(conv.myReadSeq, Math.min(payload.seq, conv.lastSeq));
      conv.unread = Math.max(0, conv.lastSeq - conv.myReadSeq);
    },
    typingReceived(state, { payload }: PayloadAction<{ conversationId: ConversationId; userId: UserId; until: number }>) {
      if (payload.userId === state.myId) return;
      state.typing[payload.conversationId] = { userId: payload.userId, until: payload.until };
    },
    typingExpired(state, { payload }: PayloadAction<{ conversationId: ConversationId; now: number }>) {
      const t = state.typing[payload.conversationId];
      if (t && t.until <= payload.now) delete state.typing[payload.conversationId];
    },
    messageQueued(state, { payload }: PayloadAction<Omit<PendingMessage, 'status' | 'error'>>) {
      state.pending[payload.clientId] = { ...payload, status: 'queued', error: null };
    },
    messageSending(state, { payload }: PayloadAction<ClientId>) {
      const p = state.pending[payload];
      if (p && p.status !== 'accepted') p.status = 'sending';
    },
    messageAccepted(state, { payload }: PayloadAction<ClientId>) {
      const p = state.pending[payload];
      if (p) {
        p.status = 'accepted';
        p.error = null;
      }
    },
    /** No `accepted` in time, or an `error` frame for it (also after `accepted`: the server may reject it later). */
    messageFailed(state, { payload }: PayloadAction<{ clientId: ClientId; error: string }>) {
      const p = state.pending[payload.clientId];
      if (p) {
        p.status = 'failed';
        p.error = payload.error;
      }
    },
    /** Back to the queue; the socket middleware sends it again with the same clientId. */
    messageRetried(state, { payload }: PayloadAction<ClientId>) {
      const p = state.pending[payload];
      if (p && p.status === 'failed') {
        p.status = 'queued';
        p.error = null;
      }
    },
    /** A socket was lost: what was on the wire and not accepted goes back to the queue. */
    sendingRequeued(state) {
      for (const p of Object.values(state.pending)) if (p.status === 'sending') p.status = 'queued';
    },
    olderLoading(state, { payload }: PayloadAction<{ conversationId: ConversationId; loading: boolean }>) {
      const entry = state.messages[payload.conversationId];
      if (entry) entry.loadingOlder = payload.loading;
    },
  },
  extraReducers: (builder) => {
    builder
      .addCase(presenceChanged, (state, { payload }) => setPeerPresence(state, payload.userId, payload))
      .addMatcher(api.endpoints.currentUser.matchFulfilled, (state, { payload }) => {
        state.myId = payload.currentUser?.id ?? null;
      })
      .addMatcher(signedInMatcher, (state, { payload }) => {
        state.myId = payload.user.id;
      })
      .addMatcher(api.endpoints.conversations.matchFulfilled, (state, { payload }) => {
        for (const c of payload.conversations) upsertConversation(state, c);
        state.conversationsLoaded = true;
      })
      .addMatcher(api.endpoints.createConversation.matchFulfilled, (state, { payload }) => {
        upsertConversation(state, payload.conversation);
      })
      .addMatcher(api.endpoints.messages.matchPending, (state, { meta }) => {
        const { conversationId, before } = meta.arg.originalArgs;
        const entry = state.messages[conversationId];
        if (entry && before !== undefined) entry.loadingOlder = true;
      })
      .addMatcher(api.endpoints.messages.matchRejected, (state, { meta }) => {
        const entry = state.messages[meta.arg.originalArgs.conversationId];
        if (entry) entry.loadingOlder = false;
      })
      .addMatcher(api.endpoints.messages.matchFulfilled, (state, { payload, meta }) => {
        const { conversationId, before, after } = meta.arg.originalArgs;
        let entry = state.messages[conversationId];
        if (before === undefined && after === undefined) {
          // The newest page: it defines the window when nothing was loaded yet.
          if (!entry || entry.items.length === 0) {
            const first = payload.messages[0];
            entry = { items: [], hasMoreBefore: payload.hasMore, syncedSeq: first ? first.seq - 1 : 0, loadingOlder: false };
            state.messages[conversationId] = entry;
          }
        } else if (!entry) {
          return; // a page for a conversation that was closed meanwhile
        }
        if (before !== undefined) {
          entry.hasMoreBefore = payload.hasMore;
          entry.loadingOlder = false;
        }
        addMessages(state, conversationId, payload.messages);
      });
  },
});

export const {
  conversationOpened,
  messageReceived,
  receiptReceived,
  readMarked,
  typingReceived,
  typingExpired,
  messageQueued,
  messageSending,
  messageAccepted,
  messageFailed,
  messageRetried,
  sendingRequeued,
  olderLoading,
} = chatSlice.actions;
export const chatReducer = chatSlice.reducer;
