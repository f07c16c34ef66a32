import type { ThunkDispatch, UnknownAction } from '@reduxjs/toolkit';
import type { ChatState } from '../features/chat/chatSlice';
import type { TypingState } from '../features/chat/typingSlice';
import type { ChatViewState } from '../features/chat/viewSlice';
import type { ConnectionState, SocketName } from '../features/connection/connectionSlice';
import {
  socketConnecting,
  socketOffline,
  socketOpened,
  socketStopped,
  socketWaiting,
} from '../features/connection/connectionSlice';
import type { NotificationsState } from '../features/notifications/notificationsSlice';
import type { SessionState } from '../features/session/sessionSlice';
import type { SocketEvent } from './reconnectingSocket';

/** The slices the socket middlewares read (a structural view of the root state, to avoid an import cycle). */
export interface SocketRootState {
  session: SessionState;
  chat: ChatState;
  typing: TypingState;
  chatView: ChatViewState;
  notifications: NotificationsState;
  connection: ConnectionState;
}

export type SocketDispatch = ThunkDispatch<SocketRootState, unknown, UnknownAction>;

export function connectionAction(name: SocketName, e: SocketEvent): UnknownAction {
  switch (e.type) {
    case 'connecting':
      return socketConnecting({ name, attempt: e.attempt });
    case 'open':
      return socketOpened({ name });
    case 'waiting':
      return socketWaiting({ name, attempt: e.attempt, retryAt: e.retryAt });
    case 'offline':
      return socketOffline({ name });
    case 'stopped':
      return socketStopped({ name });
  }
}

/** Parses one frame; anything that is not a JSON object with a string `type` is dropped. */
export function parseFrame<T extends { type: string }>(data: string): T | null {
  try {
    const v: unknown = JSON.parse(data);
    if (v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string') return v as T;
  } catch {
    // not JSON
  }
  return null;
}
