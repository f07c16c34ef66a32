// Who is typing where: shown for a while after each `typing` frame, gone when their message lands.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { ConversationId, UserId } from '../../api/types';
import { conversationRemoved, messageReceived } from './chatSlice';

export interface TypingState {
  /** Per conversation, per user: until when (ms since epoch) they count as typing. */
  byConversation: Record<ConversationId, Record<UserId, number>>;
}

const initialState: TypingState = { byConversation: {} };

function stop(state: TypingState, conversationId: ConversationId, userId: UserId): void {
  const users = state.byConversation[conversationId];
  if (!users) return;
  delete users[userId];
  if (Object.keys(users).length === 0) delete state.byConversation[conversationId];
}

const typingSlice = createSlice({
  name: 'typing',
  initialState,
  reducers: {
    typingReceived(state, { payload }: PayloadAction<{ conversationId: ConversationId; userId: UserId; until: number }>) {
      (state.byConversation[payload.conversationId] ??= {})[payload.userId] = payload.until;
    },
    typingExpired(state, { payload }: PayloadAction<{ conversationId: ConversationId; userId: UserId; now: number }>) {
      const until = state.byConversation[payload.conversationId]?.[payload.userId];
      if (until !== undefined && until <= payload.now) stop(state, payload.conversationId, payload.userId);
    },
  },
  extraReducers: (builder) => {
    builder
      .addCase(messageReceived, (state, { payload }) => stop(state, payload.conversationId, payload.senderId))
      .addCase(conversationRemoved, (state, { payload }) => {
        delete state.byConversation[payload];
      });
  },
});

export const { typingReceived, typingExpired } = typingSlice.actions;
export const typingReducer = typingSlice.reducer;

const NOBODY: UserId[] = [];

/** Who is typing in a conversation, in the order they started. */
export function selectTypingUsers(s: { typing: TypingState }, conversationId: ConversationId): UserId[] {
  const users = s.typing.byConversation[conversationId];
  return users ? Object.keys(users) : NOBODY;
}
