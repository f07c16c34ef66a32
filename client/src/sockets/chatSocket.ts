// The middleware that owns `/ws/chat`: connects while signed in, sends what the UI asks
// (messages, receipts, typing), feeds frames to the chat slice, and catches up on reconnect.
import type { Middleware, UnknownAction } from '@reduxjs/toolkit';
import { api } from '../api/http';
import type { ChatClientFrame, ChatServerFrame, ClientId, ConversationId, Message } from '../api/types';
import {
  messageAccepted,
  messageFailed,
  messageQueued,
  messageReceived,
  messageRetried,
  messageSending,
  readMarked,
  receiptReceived,
  sendingRequeued,
  typingExpired,
  typingReceived,
} from '../features/chat/chatSlice';
import { browserOnlineChanged } from '../features/connection/connectionSlice';
import { sessionEnded, signedInMatcher } from '../features/session/sessionSlice';
import { readRequested, reconnectRequested, retryRequested, sendRequested, typingRequested } from './actions';
import { catchUp, fillConversation } from './catchUp';
import type { SocketDeps } from './deps';
import { ReconnectingSocket } from './reconnectingSocket';
import { connectionAction, parseFrame, type SocketDispatch, type SocketRootState } from './state';

/** Without `accepted` this long after sending (socket open), the message is shown as failed. */
export const ACK_TIMEOUT_MS = 10_000;
export const PING_INTERVAL_MS = 25_000;
/** No frame at all this long after a ping: the connection is dead, reconnect. */
export const PONG_TIMEOUT_MS = 10_000;
/** How long a peer's typing indicator lasts without another typing frame. */
export const TYPING_SHOW_MS = 6_000;
/** At most one typing frame per conversation this often. */
export const TYPING_SEND_EVERY_MS = 3_000;

export function isSignedInAction(action: UnknownAction): boolean {
  if (signedInMatcher(action)) return true;
  return api.endpoints.currentUser.matchFulfilled(action) && action.payload.currentUser !== null;
}

export function createChatSocketMiddleware(deps: SocketDeps): Middleware<object, SocketRootState> {
  return (store) => {
    const dispatch = store.dispatch as SocketDispatch;
    const getState = store.getState;
    const { clock } = deps;

    const ackTimers = new Map<ClientId, unknown>();
    const typingTimers = new Map<ConversationId, unknown>();
    const typingSentAt = new Map<ConversationId, number>();
    /** Read watermarks not yet on the wire (socket was down): sent on open. */
    const unsentReads = new Map<ConversationId, number>();
    let pingTimer: unknown = null;
    let pongTimer: unknown = null;
    let refreshing = false;

    const socket = new ReconnectingSocket({
      url: () => deps.wsUrl('/ws/chat'),
      create: deps.create,
      clock,
      random: deps.random,
      onEvent: (e) => {
        dispatch(connectionAction('chat', e));
        // Failing again and again may mean the session is gone: ask (the session guard acts on it).
        if (e.type === 'waiting' && e.attempt === 3) {
          void dispatch(api.endpoints.currentUser.initiate(undefined, { subscribe: false, forceRefetch: true }));
        }
      },
      onOpen: () => {
        schedulePing();
        flushQueue();
        for (const [conversationId, seq] of unsentReads) send({ type: 'read', conversationId, seq });
        unsentReads.clear();
        void catchUp(dispatch, getState).then((conversations) => {
          if (!conversations) return;
          const me = getState().session.user?.id;
          // Tell senders that what reached us while we were away is now delivered.
          for (const c of conversations) {
            if (c.lastMessage && c.lastMessage.senderId !== me && c.lastSeq > c.myReadSeq) {
              send({ type: 'delivered', conversationId: c.id, seq: c.lastSeq });
            }
          }
        });
      },
      onMessage: (data) => {
        alive();
        const frame = parseFrame<ChatServerFrame>(data);
        if (frame) handleFrame(frame);
      },
      onClose: () => {
        stopPing();
        for (const t of ackTimers.values()) clock.clearTimeout(t);
        ackTimers.clear();
        dispatch(sendingRequeued());
      },
    });

    function send(frame: ChatClientFrame): boolean {
      return socket.send(frame);
    }

    function schedulePing(): void {
      stopPing();
      pingTimer = clock.setTimeout(() => {
        pingTimer = null;
        if (!send({ type: 'ping' })) return;
        pongTimer = clock.setTimeout(() => {
          pongTimer = null;
          socket.restart('no answer to ping');
        }, PONG_TIMEOUT_MS);
      }, PING_INTERVAL_MS);
    }

    /** Any frame proves the connection alive. */
    function alive(): void {
      if (pongTimer !== null) {
        clock.clearTimeout(pongTimer);
        pongTimer = null;
      }
      if (pingTimer === null) schedulePing();
    }

    function stopPing(): void {
      if (pingTimer !== null) clock.clearTimeout(pingTimer);
      if (pongTimer !== null) clock.clearTimeout(pongTimer);
      pingTimer = pongTimer = null;
    }

    function transmit(clientId: ClientId): void {
      const p = getState().chat.pending[clientId];
      if (!p || p.status === 'accepted' || p.status === 'failed') return;
      if (!send({ type: 'send', clientId, conversationId: p.conversationId, body: p.body })) return; // stays queued
      dispatch(messageSending(clientId));
      const old = ackTimers.get(clientId);
      if (old !== undefined) clock.clearTimeout(old);
      ackTimers.set(
        clientId,
        clock.setTimeout(() => {
          ackTimers.delete(clientId);
          dispatch(messageFailed({ clientId, error: 'Not confirmed by the server.' }));
        }, ACK_TIMEOUT_MS),
      );
    }

    function flushQueue(): void {
      const pending = Object.values(getState().chat.pending)
        .filter((p) => p.status === 'queued' || p.status === 'sending')
        .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
      for (const p of pending) transmit(p.clientId);
    }

    function refreshConversations(): void {
      if (refreshing) return;
      refreshing = true;
      void dispatch(api.endpoints.conversations.initiate(undefined, { subscribe: false, forceRefetch: true })).finally(() => {
        refreshing = false;
      });
    }

    function onMessage(m: Message): void {
      const before = getState().chat;
      const entry = before.messages[m.conversationId];
      const hole = entry !== undefined && m.seq > entry.syncedSeq + 1;
      dispatch(messageReceived(m));
      const ack = ackTimers.get(m.clientId);
      if (ack !== undefined && m.senderId === before.myId) {
        clock.clearTimeout(ack);
        ackTimers.delete(m.clientId);
      }
      if (!before.conversations[m.conversationId]) refreshConversations();
      if (hole) void fillConversation(dispatch, getState, m.conversationId, m.seq);
      if (m.senderId !== before.myId) send({ type: 'delivered', conversationId: m.conversationId, seq: m.seq });
    }

    function handleFrame(frame: ChatServerFrame): void {
      switch (frame.type) {
        case 'accepted': {
          const t = ackTimers.get(frame.clientId);
          if (t !== undefined) clock.clearTimeout(t);
          ackTimers.delete(frame.clientId);
          dispatch(messageAccepted(frame.clientId));
          break;
        }
        case 'message':
          onMessage(frame.message);
          break;
        case 'receipt':
          dispatch(receiptReceived(frame));
          break;
        case 'typing': {
          const until = clock.now() + TYPING_SHOW_MS;
          dispatch(typingReceived({ conversationId: frame.conversationId, userId: frame.userId, until }));
          const old = typingTimers.get(frame.conversationId);
          if (old !== undefined) clock.clearTimeout(old);
          typingTimers.set(
            frame.conversationId,
            clock.setTimeout(() => {
              typingTimers.delete(frame.conversationId);
              dispatch(typingExpired({ conversationId: frame.conversationId, now: clock.now() }));
            }, TYPING_SHOW_MS),
          );
          break;
        }
        case 'pong':
          break;
        case 'error':
          if (frame.clientId) {
            const t = ackTimers.get(frame.clientId);
            if (t !== undefined) clock.clearTimeout(t);
            ackTimers.delete(frame.clientId);
            dispatch(messageFailed({ clientId: frame.clientId, error: frame.message || 'The server refused the message.' }));
          } else {
            console.warn('chat socket error frame', frame.code, frame.message);
          }
          break;
        default:
          break; // a frame type this version does not know
      }
    }

    function reset(): void {
      stopPing();
      for (const t of [...ackTimers.values(), ...typingTimers.values()]) clock.clearTimeout(t);
      ackTimers.clear();
      typingTimers.clear();
      typingSentAt.clear();
      unsentReads.clear();
    }

    return (next) => (action) => {
      const result = next(action);
      const a = action as UnknownAction;
      if (isSignedInAction(a)) {
        socket.start();
      } else if (sessionEnded.match(a)) {
        socket.stop();
        reset();
      } else if (sendRequested.match(a)) {
        const me = getState().session.user?.id;
        const body = a.payload.body;
        if (me && body.trim()) {
          const clientId = deps.uuid();
          dispatch(
            messageQueued({
              clientId,
              conversationId: a.payload.conversationId,
              senderId: me,
              body,
              createdAt: new Date(clock.now()).toISOString(),
            }),
          );
          transmit(clientId);
        }
      } else if (retryRequested.match(a)) {
        dispatch(messageRetried(a.payload));
        transmit(a.payload);
      } else if (typingRequested.match(a)) {
        const last = typingSentAt.get(a.payload) ?? -Infinity;
        if (clock.now() - last >= TYPING_SEND_EVERY_MS && send({ type: 'typing', conversationId: a.payload })) {
          typingSentAt.set(a.payload, clock.now());
        }
      } else if (readRequested.match(a)) {
        const { conversationId, seq } = a.payload;
        const conv = getState().chat.conversations[conversationId];
        if (conv && seq > conv.myReadSeq) {
          dispatch(readMarked({ conversationId, seq }));
          if (!send({ type: 'read', conversationId, seq })) {
            unsentReads.set(conversationId, Math.max(seq, unsentReads.get(conversationId) ?? 0));
          }
        }
      } else if (reconnectRequested.match(a)) {
        socket.reconnectNow();
      } else if (browserOnlineChanged.match(a)) {
        socket.setOffline(!a.payload);
      }
      return result;
    };
  };
}
