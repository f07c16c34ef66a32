// What the open chat shows besides its messages: the composer's reply or edit, and the message
// to bring into view (a search result, a quoted message).
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
}

export interface ChatViewState {
  composer: Record<ConversationId, ComposerMode>;
  focus: Focus | null;
}

const initialState: ChatViewState = { composer: {}, focus: null };

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
      state.focus = { ...payload, nonce: (state.focus?.nonce ?? 0) + 1 };
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
      })
      .addCase(messageUpdated, (state, { payload: { message: m } }) => {
        // A message deleted while being edited or answered: nothing left to edit or quote.
        const mode = state.composer[m.conversationId];
        if (mode && mode.seq === m.seq && m.deletedAt) delete state.composer[m.conversationId];
      });
  },
});

export const { composerModeSet, composerModeCleared, messageFocused, focusCleared } = viewSlice.actions;
export const chatViewReducer = viewSlice.reducer;
