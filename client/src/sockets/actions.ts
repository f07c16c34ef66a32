// Intents the UI hands to the socket middlewares. No reducer handles them directly.
import { createAction } from '@reduxjs/toolkit';
import type { ClientId, ConversationId } from '../api/types';

export const sendRequested = createAction<{ conversationId: ConversationId; body: string }>('chatSocket/sendRequested');
export const retryRequested = createAction<ClientId>('chatSocket/retryRequested');
export const typingRequested = createAction<ConversationId>('chatSocket/typingRequested');
/** The conversation is on screen up to `seq` (and the tab is visible). */
export const readRequested = createAction<{ conversationId: ConversationId; seq: number }>('chatSocket/readRequested');
/** "Retry now" in the connection banner. */
export const reconnectRequested = createAction('sockets/reconnectRequested');
