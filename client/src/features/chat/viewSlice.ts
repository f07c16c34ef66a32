// What the open chat shows besides its messages: the composer's reply or edit, the message to
// bring into view (a search result, a quoted message, the first unread), and the "New messages"
// line.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { ConversationId } from '../../api/types';
import { conversationRemoved, messageUpdated } from './chatSlice';

export interface ComposerMode {
  kind: 'reply' | 'edit';
  seq: number;
}

export interface Focus {
  conversationId: ConversationId;
  seq: number;
  /** Grows on every request, so asking for the same message again scrolls to it again. */
  nonce: number;
  /**
   * The first unread message, where the conversation opens: brought to the top of the list (with
   * the line above it) and not highlighted. Otherwise centred and highlighted.
   */
  unread: boolean;
}

/** The "New messages" line of the open conversation: above the message `seq`. */
export interface Divider {
  conversationId: ConversationId;
  seq: number;
}

export interface ChatViewState {
  composer: Record<ConversationId, ComposerMode>;
  focus: Focus | null;
  divider: Divider | null;
}

const initialState: ChatViewState = { composer: {}, focus: null, divider: null };

const viewSlice = createSlice({
  name: 'chatView',
  initialState,
  reducers: {
    composerModeSet(state, { payload }: PayloadAction<{ conversationId: ConversationId; mode: ComposerMode }>) {
      state.composer[payload.conversationId] = payload.mode;
    },
    composerModeCleared(state, { payload }: PayloadAction<ConversationId>) {
      delete state.composer[payload];
    },
    messageFocused(state, { payload }: PayloadAction<{ conversationId: ConversationId; seq: number }>) {
      state.focus = { ...payload, nonce: (state.focus?.nonce ?? 0) + 1, unread: false };
    },
    /**
     * A conversation opened afresh (see unread.ts): the line goes above its first unread message,
     * or goes away when nothing is unread, and the list opens there unless it opens at a message
     * asked for (a search result), which wins.
     */
    conversationEntered(state, { payload: { conversationId, firstUnread } }: PayloadAction<{ conversationId: ConversationId; firstUnread: number | null }>) {
      state.divider = firstUnread === null ? null : { conversationId, seq: firstUnread };
      if (firstUnread !== null && state.focus?.conversationId !== conversationId) {
        state.focus = { conversationId, seq: firstUnread, nonce: (state.focus?.nonce ?? 0) + 1, unread: true };
      }
    },
    /**
     * Messages arrived that the reader of the open conversation did not see (tab hidden, scrolled
     * up): the line goes above the first of them, unless it is there already, where it stays.
     */
    dividerPlaced(state, { payload }: PayloadAction<Divider>) {
      if (state.divider?.conversationId !== payload.conversationId) state.divider = payload;
    },
    focusCleared(state) {
      state.focus = null;
    },
  },
  extraReducers: (builder) => {
    builder
      .addCase(conversationRemoved, (state, { payload }) => {
        delete state.composer[payload];
        if (state.focus?.conversationId === payload) state.focus = null;
        if (state.divider?.conversationId === payload) state.divider = null;
      })
      .addCase(messageUpdated, (state, { payload: { message: m } }) => {
        // A message deleted while being edited or answered: nothing left to edit or quote.
        const mode = state.composer[m.conversationId];
        if (mode && mode.seq === m.seq && m.deletedAt) delete state.composer[m.conversationId];
      });
  },
});

export const { composerModeSet, composerModeCleared, messageFocused, conversationEntered, dividerPlaced, focusCleared } = viewSlice.actions;
export const chatViewReducer = viewSlice.reducer;
