import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

export type SocketName = 'chat' | 'notifications';
/** idle: not wanted (signed out). connecting: a socket is opening. open. waiting: a retry is scheduled. offline: the browser is offline. */
export type SocketStatus = 'idle' | 'connecting' | 'open' | 'waiting' | 'offline';

export interface SocketState {
  status: SocketStatus;
  /** Failed attempts in a row; 0 after a successful open. */
  attempt: number;
  /** When the next attempt starts (ms since epoch), while `waiting`. */
  retryAt: number | null;
  /** Whether this socket was open at least once in this session (so a drop is a *re*connect). */
  everOpened: boolean;
}

export interface ConnectionState {
  chat: SocketState;
  notifications: SocketState;
  browserOnline: boolean;
}

const idle: SocketState = { status: 'idle', attempt: 0, retryAt: null, everOpened: false };

const initialState: ConnectionState = {
  chat: idle,
  notifications: idle,
  browserOnline: typeof navigator === 'undefined' ? true : navigator.onLine,
};

const connectionSlice = createSlice({
  name: 'connection',
  initialState,
  reducers: {
    socketConnecting(state, { payload }: PayloadAction<{ name: SocketName; attempt: number }>) {
      const s = state[payload.name];
      s.status = 'connecting';
      s.attempt = payload.attempt;
      s.retryAt = null;
    },
    socketOpened(state, { payload }: PayloadAction<{ name: SocketName }>) {
      const s = state[payload.name];
      s.status = 'open';
      s.attempt = 0;
      s.retryAt = null;
      s.everOpened = true;
    },
    socketWaiting(state, { payload }: PayloadAction<{ name: SocketName; attempt: number; retryAt: number }>) {
      const s = state[payload.name];
      s.status = 'waiting';
      s.attempt = payload.attempt;
      s.retryAt = payload.retryAt;
    },
    socketOffline(state, { payload }: PayloadAction<{ name: SocketName }>) {
      const s = state[payload.name];
      s.status = 'offline';
      s.retryAt = null;
    },
    socketStopped(state, { payload }: PayloadAction<{ name: SocketName }>) {
      state[payload.name] = idle;
    },
    browserOnlineChanged(state, { payload }: PayloadAction<boolean>) {
      state.browserOnline = payload;
    },
  },
});

export const { socketConnecting, socketOpened, socketWaiting, socketOffline, socketStopped, browserOnlineChanged } =
  connectionSlice.actions;
export const connectionReducer = connectionSlice.reducer;

interface WithConnection {
  connection: ConnectionState;
}

export type BannerState =
  | { kind: 'none' }
  | { kind: 'offline' }
  | { kind: 'connecting' }
  | { kind: 'waiting'; retryAt: number };

/**
 * What the connection banner shows. Nothing during the very first connect (that is just loading);
 * otherwise any socket that is not open is shown, the one retrying latest first.
 */
export function selectBanner(state: WithConnection): BannerState {
  const { chat, notifications, browserOnline } = state.connection;
  const sockets = [chat, notifications].filter((s) => s.status !== 'idle');
  if (sockets.length === 0) return { kind: 'none' };
  if (!browserOnline || sockets.some((s) => s.status === 'offline')) return { kind: 'offline' };
  const waiting = sockets.filter((s) => s.status === 'waiting');
  if (waiting.length > 0) {
    return { kind: 'waiting', retryAt: Math.max(...waiting.map((s) => s.retryAt ?? 0)) };
  }
  if (sockets.some((s) => s.status === 'connecting' && (s.everOpened || s.attempt > 0))) return { kind: 'connecting' };
  return { kind: 'none' };
}
