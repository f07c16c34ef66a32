// Intents the UI hands to the socket middlewares. No reducer handles them directly.
import { createAction } from '@reduxjs/toolkit';
import type { Attachment, ClientId, ConversationId } from '../api/types';

/** Send a message: text, uploaded attachments, or both. */
export const sendRequested = createAction<{
  conversationId: ConversationId;
  body: string;
  replyToSeq?: number | null;
  attachments?: Attachment[];
}>('chatSocket/sendRequested');
export const retryRequested = createAction<ClientId>('chatSocket/retryRequested');
/** Replace the text of one of my messages. */
export const editRequested = createAction<{ conversationId: ConversationId; seq: number; body: string }>('chatSocket/editRequested');
/** Delete one of my messages for everyone. */
export const deleteRequested = createAction<{ conversationId: ConversationId; seq: number }>('chatSocket/deleteRequested');
/** Put (`on`) or take back my reaction `emoji` on a message. */
export const reactRequested = createAction<{ conversationId: ConversationId; seq: number; emoji: string; on: boolean }>(
  'chatSocket/reactRequested',
);
export const typingRequested = createAction<ConversationId>('chatSocket/typingRequested');
/** The conversation is on screen up to `seq` (and the tab is visible). */
export const readRequested = createAction<{ conversationId: ConversationId; seq: number }>('chatSocket/readRequested');
/** "Retry now" in the connection banner. */
export const reconnectRequested = createAction('sockets/reconnectRequested');
