// Conversations and their messages: loaded by HTTP (RTK Query), kept live by the chat socket.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { groupsApi } from '../../api/groups';
import { historyApi } from '../../api/history';
import { api } from '../../api/http';
import type { Attachment, ClientId, Conversation, ConversationId, Message, UserId, UserSummary } from '../../api/types';
import { presenceChanged } from '../users/usersSlice';
import { signedInMatcher } from '../session/sessionSlice';
import { mergeConversation, noteMessage, raiseWatermarks } from './conversation';
import { advanceSynced, lowerBound, mergeMessages } from './timeline';

/**
 * The loaded window of one conversation's history: `items` run without a hole from `items[0]`
 * up to `syncedSeq` (live messages may follow past a hole until it is filled).
 */
export interface ConversationMessages {
  /** Loaded messages, ascending by seq, without duplicates. */
  items: Message[];
  /** Older messages exist on the server before `items[0]`. */
  hasMoreBefore: boolean;
  /**
   * The window stops short of the newest messages (it was opened around a search result or a
   * quoted message): newer pages load on scroll, live messages wait until the window reaches the end.
   */
  hasMoreAfter: boolean;
  /** Everything from the oldest loaded message up to this seq is loaded (no hole). */
  syncedSeq: number;
  loadingOlder: boolean;
  loadingNewer: boolean;
  /** Grows each time the window is replaced, so the list starts over at its new place. */
  epoch: number;
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
  replyToSeq: number | null;
  /** Uploaded already; sent by id. */
  attachments: Attachment[];
  createdAt: string;
  status: PendingStatus;
  error: string | null;
  /** The server refused it (an `error` frame naming it): final, whatever `accepted` comes after. */
  refused: boolean;
}

export interface ChatState {
  myId: UserId | null;
  conversations: Record<ConversationId, Conversation>;
  conversationsLoaded: boolean;
  /** Only conversations that were opened (a page loaded) have an entry. */
  messages: Record<ConversationId, ConversationMessages>;
  /**
   * Per conversation, the change counter up to which the loaded messages show every edit, delete
   * and reaction. Catch-up asks `/changes?since=` this value when the server's `lastChange` is higher.
   */
  appliedChange: Record<ConversationId, number>;
  /** Own messages not yet stored, by clientId, in the order they were written. */
  pending: Record<ClientId, PendingMessage>;
  activeId: ConversationId | null;
  /** Groups I asked to leave and am still in: their `removed` frame is my own doing, not news. */
  leaving: Record<ConversationId, true>;
  /**
   * Counts the conversations joining or leaving this client's list (frames, answers, my own
   * requests): what a conversation list answer may be compared against, see `listChanges`.
   */
  membership: number;
  /** When (in `membership` counts) each known conversation joined the list. */
  joinedAt: Record<ConversationId, number>;
  /** When conversations left the list, while a list request that started before is on its way. */
  leftAt: Record<ConversationId, number>;
  /** The `membership` count when each conversation list request on its way started, by request id. */
  listStartedAt: Record<string, number>;
}

const initialState: ChatState = {
  myId: null,
  conversations: {},
  conversationsLoaded: false,
  messages: {},
  appliedChange: {},
  pending: {},
  activeId: null,
  leaving: {},
  membership: 0,
  joinedAt: {},
  leftAt: {},
  listStartedAt: {},
};

export interface ReceiptFrame {
  conversationId: ConversationId;
  userId: UserId;
  deliveredSeq: number;
  readSeq: number;
}

function upsertConversation(state: ChatState, incoming: Conversation): void {
  const known = state.conversations[incoming.id];
  if (known) mergeConversation(known, incoming);
  else {
    state.conversations[incoming.id] = structuredClone(incoming);
    state.joinedAt[incoming.id] = ++state.membership;
    delete state.leftAt[incoming.id];
  }
  // Messages not loaded yet will load in their current state: nothing to catch up on for them.
  if (!state.messages[incoming.id]) {
    state.appliedChange[incoming.id] = Math.max(state.appliedChange[incoming.id] ?? 0, incoming.lastChange);
  }
}

function removeConversation(state: ChatState, id: ConversationId): void {
  if (state.conversations[id] && Object.keys(state.listStartedAt).length > 0) state.leftAt[id] = ++state.membership;
  delete state.joinedAt[id];
  delete state.conversations[id];
  delete state.leaving[id];
  delete state.messages[id];
  delete state.appliedChange[id];
  for (const p of Object.values(state.pending)) if (p.conversationId === id) delete state.pending[p.clientId];
}

/**
 * What a conversation list answer changes, for the request `requestId`: the list is every
 * conversation I am in as of when the server answered, which may be before a `conversation` or
 * `removed` frame that reached us first. So a conversation it leaves out is gone only if it was
 * known before the request started (one that joined since is missing because the answer is
 * older); one it has that left since the request started stays gone (the answer is older than
 * the removal). A request whose start was not seen counts as started now.
 */
export function listChanges(
  chat: ChatState,
  listed: readonly Conversation[],
  requestId: string,
): { gone: Conversation[]; stale: Set<ConversationId> } {
  const startedAt = chat.listStartedAt[requestId] ?? chat.membership;
  const ids = new Set(listed.map((c) => c.id));
  const gone = chat.conversationsLoaded
    ? Object.values(chat.conversations).filter((c) => !ids.has(c.id) && (chat.joinedAt[c.id] ?? 0) <= startedAt)
    : [];
  const stale = new Set(listed.filter((c) => !chat.conversations[c.id] && (chat.leftAt[c.id] ?? -1) > startedAt).map((c) => c.id));
  return { gone, stale };
}

/**
 * The messages of `incoming` that join the window without a hole. A window that stops short of
 * the newest messages takes nothing beyond its end: those load when it is scrolled to.
 */
function joining(entry: ConversationMessages, incoming: readonly Message[]): readonly Message[] {
  if (!entry.hasMoreAfter) return incoming;
  const sorted = [...incoming].sort((a, b) => a.seq - b.seq);
  let end = entry.syncedSeq;
  return sorted.filter((m) => {
    if (m.seq > end + 1) return false;
    end = Math.max(end, m.seq);
    return true;
  });
}

/** Stored messages reached us (socket or HTTP): the window, the summary, the pending copies. */
function addMessages(state: ChatState, conversationId: ConversationId, messages: readonly Message[]): void {
  const entry = state.messages[conversationId];
  if (entry) {
    mergeMessages(entry.items, joining(entry, messages));
    entry.syncedSeq = advanceSynced(entry.items, entry.syncedSeq);
  }
  const conv = state.conversations[conversationId];
  for (const m of messages) {
    if (conv) noteMessage(conv, m, state.myId);
    if (m.senderId === state.myId && state.pending[m.clientId]) delete state.pending[m.clientId];
  }
}

/** A message in its new state (edit, delete, reaction), wherever we hold it. */
function replaceMessage(state: ChatState, m: Message): void {
  const entry = state.messages[m.conversationId];
  if (entry) {
    const at = lowerBound(entry.items, m.seq);
    if (entry.items[at]?.seq === m.seq) entry.items[at] = m;
  }
  const conv = state.conversations[m.conversationId];
  if (conv?.lastMessage?.seq === m.seq) conv.lastMessage = m;
}

function newWindow(state: ChatState, conversationId: ConversationId, first: Message | undefined): ConversationMessages {
  const entry: ConversationMessages = {
    items: [],
    hasMoreBefore: false,
    hasMoreAfter: false,
    syncedSeq: first ? first.seq - 1 : 0,
    loadingOlder: false,
    loadingNewer: false,
    epoch: (state.messages[conversationId]?.epoch ?? 0) + 1,
  };
  state.messages[conversationId] = entry;
  if (state.appliedChange[conversationId] === undefined) {
    state.appliedChange[conversationId] = state.conversations[conversationId]?.lastChange ?? 0;
  }
  return entry;
}

/** A list request answered or failed; the departures kept for it are forgotten once none is on its way. */
function listSettled(state: ChatState, requestId: string): void {
  delete state.listStartedAt[requestId];
  if (Object.keys(state.listStartedAt).length === 0) state.leftAt = {};
}

function setPeerPresence(state: ChatState, userId: UserId, presence: Pick<UserSummary, 'online' | 'lastSeenAt'>): void {
  for (const c of Object.values(state.conversations)) {
    if (c.kind === 'direct' && c.peer.id === userId) {
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
    /** A `conversation` frame: created, renamed, members changed. */
    conversationReceived(state, { payload }: PayloadAction<Conversation>) {
      upsertConversation(state, payload);
    },
    /** A `removed` frame, or I left: the conversation and everything of it go. */
    conversationRemoved(state, { payload }: PayloadAction<ConversationId>) {
      removeConversation(state, payload);
    },
    messageReceived(state, { payload }: PayloadAction<Message>) {
      addMessages(state, payload.conversationId, [payload]);
    },
    /** A `message.updated` frame. A change beyond the next one leaves a gap the socket fills from `/changes`. */
    messageUpdated(state, { payload }: PayloadAction<{ message: Message; change: number }>) {
      const { message, change } = payload;
      replaceMessage(state, message);
      const id = message.conversationId;
      const applied = state.appliedChange[id] ?? 0;
      if (!state.messages[id] || change <= applied + 1) state.appliedChange[id] = Math.max(applied, change);
    },
    receiptReceived(state, { payload }: PayloadAction<ReceiptFrame>) {
      const conv = state.conversations[payload.conversationId];
      if (conv) raiseWatermarks(conv, payload.userId, state.myId, payload.deliveredSeq, payload.readSeq);
    },
    /** This tab reported `read` up to `seq` (applied at once, the server's receipt confirms it later). */
    readMarked(state, { payload }: PayloadAction<{ conversationId: ConversationId; seq: number }>) {
      const conv = state.conversations[payload.conversationId];
      if (!conv || !state.myId) return;
      const seq = Math.min(payload.seq, conv.lastSeq);
      raiseWatermarks(conv, state.myId, state.myId, seq, seq);
    },
    /** Forget the loaded window; the open chat loads the newest page again ("jump to latest"). */
    historyReset(state, { payload }: PayloadAction<ConversationId>) {
      delete state.messages[payload];
    },
    messageQueued(state, { payload }: PayloadAction<Omit<PendingMessage, 'status' | 'error' | 'refused'>>) {
      state.pending[payload.clientId] = { ...payload, status: 'queued', error: null, refused: false };
    },
    messageSending(state, { payload }: PayloadAction<ClientId>) {
      const p = state.pending[payload];
      if (p && p.status !== 'accepted') p.status = 'sending';
    },
    /**
     * The message will not be lost. A refusal is final: `accepted` (the send was recorded) and the
     * refusal (the messages service turned it down) travel different paths and may arrive in
     * either order.
     */
    messageAccepted(state, { payload }: PayloadAction<ClientId>) {
      const p = state.pending[payload];
      if (p && !p.refused) {
        p.status = 'accepted';
        p.error = null;
      }
    },
    /** No `accepted` in time, or an `error` frame for it (`refused`; also after `accepted`: the server may refuse it later). */
    messageFailed(state, { payload }: PayloadAction<{ clientId: ClientId; error: string; refused?: boolean }>) {
      const p = state.pending[payload.clientId];
      if (p) {
        p.status = 'failed';
        p.error = payload.error;
        p.refused = payload.refused ?? false;
      }
    },
    /** Back to the queue; the socket middleware sends it again with the same clientId. */
    messageRetried(state, { payload }: PayloadAction<ClientId>) {
      const p = state.pending[payload];
      if (p && p.status === 'failed') {
        p.status = 'queued';
        p.error = null;
        p.refused = false;
      }
    },
    /** The user gave up on a message that was not sent. */
    pendingDiscarded(state, { payload }: PayloadAction<ClientId>) {
      if (state.pending[payload]?.status === 'failed') delete state.pending[payload];
    },
    /** A socket was lost: what was on the wire and not accepted goes back to the queue. */
    sendingRequeued(state) {
      for (const p of Object.values(state.pending)) if (p.status === 'sending') p.status = 'queued';
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
      .addMatcher(api.endpoints.conversations.matchPending, (state, { meta }) => {
        state.listStartedAt[meta.requestId] = state.membership;
      })
      .addMatcher(api.endpoints.conversations.matchRejected, (state, { meta }) => {
        listSettled(state, meta.requestId);
      })
      .addMatcher(api.endpoints.conversations.matchFulfilled, (state, { payload, meta }) => {
        // One I was removed from while away goes; see listChanges for answers older than a frame.
        const { gone, stale } = listChanges(state, payload.conversations, meta.requestId);
        for (const c of gone) removeConversation(state, c.id);
        for (const c of payload.conversations) if (!stale.has(c.id)) upsertConversation(state, c);
        state.conversationsLoaded = true;
        listSettled(state, meta.requestId);
      })
      .addMatcher(api.endpoints.createConversation.matchFulfilled, (state, { payload }) => {
        upsertConversation(state, payload.conversation);
      })
      .addMatcher(groupsApi.endpoints.renameConversation.matchFulfilled, (state, { payload }) => {
        upsertConversation(state, payload.conversation);
      })
      .addMatcher(groupsApi.endpoints.addMembers.matchFulfilled, (state, { payload }) => {
        upsertConversation(state, payload.conversation);
      })
      .addMatcher(groupsApi.endpoints.removeMember.matchPending, (state, { meta }) => {
        const { id, userId } = meta.arg.originalArgs;
        if (userId === state.myId) state.leaving[id] = true;
      })
      .addMatcher(groupsApi.endpoints.removeMember.matchRejected, (state, { meta }) => {
        delete state.leaving[meta.arg.originalArgs.id];
      })
      .addMatcher(groupsApi.endpoints.removeMember.matchFulfilled, (state, { meta }) => {
        const { id, userId } = meta.arg.originalArgs;
        if (userId === state.myId) removeConversation(state, id);
      })
      .addMatcher(api.endpoints.messages.matchPending, (state, { meta }) => {
        const { conversationId, before, after } = meta.arg.originalArgs;
        const entry = state.messages[conversationId];
        if (entry && before !== undefined) entry.loadingOlder = true;
        if (entry && after !== undefined && entry.hasMoreAfter && after === entry.syncedSeq) entry.loadingNewer = true;
      })
      .addMatcher(api.endpoints.messages.matchRejected, (state, { meta }) => {
        const entry = state.messages[meta.arg.originalArgs.conversationId];
        if (entry) {
          entry.loadingOlder = false;
          entry.loadingNewer = false;
        }
      })
      .addMatcher(api.endpoints.messages.matchFulfilled, (state, { payload, meta }) => {
        const { conversationId, before, after, replace } = meta.arg.originalArgs;
        let entry = state.messages[conversationId];
        if (replace) {
          // A window around one message: it starts where the page starts and may stop short of the end.
          const first = payload.messages[0];
          entry = newWindow(state, conversationId, first);
          entry.hasMoreBefore = first !== undefined && first.seq > 1;
          entry.hasMoreAfter = payload.hasMore;
        } else if (before === undefined && after === undefined) {
          // The newest page: it defines the window when nothing was loaded yet.
          if (!entry || entry.items.length === 0) {
            entry = newWindow(state, conversationId, payload.messages[0]);
            entry.hasMoreBefore = payload.hasMore;
          }
        } else if (!entry) {
          return; // a page for a conversation that was closed meanwhile
        }
        if (before !== undefined) {
          entry.hasMoreBefore = payload.hasMore;
          entry.loadingOlder = false;
        }
        const extendsWindow = !replace && after !== undefined && entry.hasMoreAfter && after === entry.syncedSeq;
        addMessages(state, conversationId, payload.messages);
        if (extendsWindow) {
          entry.hasMoreAfter = payload.hasMore;
          entry.loadingNewer = false;
        }
      })
      .addMatcher(historyApi.endpoints.changes.matchFulfilled, (state, { payload, meta }) => {
        const id = meta.arg.originalArgs.conversationId;
        if (!state.conversations[id]) return;
        for (const m of payload.messages) replaceMessage(state, m);
        state.appliedChange[id] = Math.max(state.appliedChange[id] ?? 0, payload.lastChange);
      });
  },
});

export const {
  conversationOpened,
  conversationReceived,
  conversationRemoved,
  messageReceived,
  messageUpdated,
  receiptReceived,
  readMarked,
  historyReset,
  messageQueued,
  messageSending,
  messageAccepted,
  messageFailed,
  messageRetried,
  pendingDiscarded,
  sendingRequeued,
} = chatSlice.actions;
export const chatReducer = chatSlice.reducer;
