// The middleware that owns `/ws/chat`: connects while signed in, turns the UI's intents into
// frames, and hands server frames to chat/frames.ts. Timers live in their own small parts:
// chat/heartbeat.ts (ping), chat/outbox.ts (my messages until accepted), chat/typing.ts.
import type { Middleware, UnknownAction } from '@reduxjs/toolkit';
import { api } from '../api/http';
import type { ChatClientFrame, ChatServerFrame, Conversation, ConversationId } from '../api/types';
import { listChanges, messageQueued, messageRetried, readMarked, sendingRequeued, type ChatState } from '../features/chat/chatSlice';
import { noLongerInText } from '../features/chat/conversation';
import { bodyFault } from '../features/chat/messageBody';
import { browserOnlineChanged } from '../features/connection/connectionSlice';
import { noticeShown } from '../features/notices/noticesSlice';
import { sessionEndAnnounced, sessionEnded, sessionEndOf, signedInMatcher } from '../features/session/sessionSlice';
import {
  deleteRequested,
  editRequested,
  reactRequested,
  readRequested,
  reconnectRequested,
  retryRequested,
  sendRequested,
  typingRequested,
} from './actions';
import { handleFrame, reportDelivered, type FrameContext } from './chat/frames';
import { fitsInFrame, TOO_LONG_TEXT } from './chat/frameSize';
import { Heartbeat } from './chat/heartbeat';
import { Outbox } from './chat/outbox';
import { TypingTimers } from './chat/typing';
import { catchUp } from './catchUp';
import type { SocketDeps } from './deps';
import { ReconnectingSocket } from './reconnectingSocket';
import { connectionAction, parseFrame, type SocketDispatch, type SocketRootState } from './state';

export { ACK_TIMEOUT_MS } from './chat/outbox';
export { PING_INTERVAL_MS, PONG_TIMEOUT_MS } from './chat/heartbeat';
export { TYPING_SEND_EVERY_MS, TYPING_SHOW_MS } from './chat/typing';

/** An `error` frame this soon after an edit, delete or reaction is taken as its refusal. */
export const ACTION_ANSWER_MS = 10_000;

const OFFLINE_TEXT = 'You are offline. Try again when the connection is back.';

export function isSignedInAction(action: UnknownAction): boolean {
  if (signedInMatcher(action)) return true;
  return api.endpoints.currentUser.matchFulfilled(action) && action.payload.currentUser !== null;
}

/**
 * The groups I was in that a fresh list no longer has, and that I am not leaving from this tab:
 * I was removed while away (the `removed` frame never reached me). Only groups known before the
 * list was asked for: one I was added to since is missing from an older answer (listChanges).
 */
function groupsGone(chat: ChatState, listed: readonly Conversation[], requestId: string): Conversation[] {
  return listChanges(chat, listed, requestId).gone.filter((c) => c.kind === 'group' && !chat.leaving[c.id]);
}

export function createChatSocketMiddleware(deps: SocketDeps): Middleware<object, SocketRootState> {
  return (store) => {
    const dispatch = store.dispatch as SocketDispatch;
    const getState = store.getState;
    const { clock } = deps;

    /** Read watermarks not yet on the wire (socket was down): sent on open. */
    const unsentReads = new Map<ConversationId, number>();
    let refreshing = false;
    let refreshAgain = false;
    let lastUserActionAt = -Infinity;

    const send = (frame: ChatClientFrame): boolean => socket.send(frame);
    const heartbeat = new Heartbeat(clock, () => send({ type: 'ping' }), () => socket.restart('no answer to ping'));
    const outbox = new Outbox(clock, dispatch, getState, send);
    const typing = new TypingTimers(clock, dispatch);

    /** Catch up, then tell senders that what reached us while we were away is delivered. */
    function runCatchUp(): void {
      void catchUp(dispatch).then((conversations) => {
        if (!conversations) return;
        const me = getState().session.user?.id;
        for (const c of conversations) reportDelivered(send, c, me);
      });
    }

    /**
     * A list asked after now. RTK Query drops a forced refetch while a list request is on its
     * way and answers with that one, which may be older than the frame that asks: ask again
     * (up to three times) until our own request ran.
     */
    async function listAskedNow(): Promise<void> {
      for (let attempt = 0; attempt < 3; attempt++) {
        const request = dispatch(api.endpoints.conversations.initiate(undefined, { subscribe: false, forceRefetch: true }));
        if ((await request).requestId === request.requestId) return;
      }
    }

    /** Fetch the list again; asked again while a refresh runs, one more follows it (frames may be newer than its answer). */
    function refreshConversations(): void {
      if (refreshing) {
        refreshAgain = true;
        return;
      }
      refreshing = true;
      void (async () => {
        do {
          refreshAgain = false;
          await listAskedNow();
        } while (refreshAgain);
      })().finally(() => {
        refreshing = false;
      });
    }

    const frames: FrameContext = {
      dispatch,
      getState,
      send,
      outbox,
      typing,
      catchUp: runCatchUp,
      refreshConversations,
      userActionPending: () => clock.now() - lastUserActionAt < ACTION_ANSWER_MS,
    };

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
        heartbeat.start();
        outbox.flush();
        for (const [conversationId, seq] of unsentReads) send({ type: 'read', conversationId, seq });
        unsentReads.clear();
        runCatchUp();
      },
      onMessage: (data) => {
        heartbeat.alive();
        const frame = parseFrame<ChatServerFrame>(data);
        if (frame) handleFrame(frames, frame);
      },
      onClose: (_code, reason) => {
        heartbeat.stop();
        outbox.clear();
        dispatch(sendingRequeued());
        // Why the session ended, when this socket is the one told (the notifications socket may
        // be reconnecting): the sign-in page says it.
        const end = sessionEndOf(reason);
        if (end) dispatch(sessionEndAnnounced(end));
      },
    });

    /** An edit, delete or reaction: sent now, or explained when the socket is down or it is too big to send. */
    function userAction(frame: ChatClientFrame): void {
      if (!fitsInFrame(frame)) dispatch(noticeShown(TOO_LONG_TEXT));
      else if (send(frame)) lastUserActionAt = clock.now();
      else dispatch(noticeShown(OFFLINE_TEXT));
    }

    function reset(): void {
      heartbeat.stop();
      outbox.clear();
      typing.clear();
      unsentReads.clear();
      lastUserActionAt = -Infinity;
    }

    return (next) => (action) => {
      const a = action as UnknownAction;
      // Told as the `removed` frame tells it, whatever brings the list (catching up after a break, mostly).
      const gone = api.endpoints.conversations.matchFulfilled(a) ? groupsGone(getState().chat, a.payload.conversations, a.meta.requestId) : [];
      const result = next(action);
      for (const c of gone) dispatch(noticeShown(noLongerInText(c)));
      if (isSignedInAction(a)) {
        socket.start();
      } else if (sessionEnded.match(a)) {
        socket.stop();
        reset();
      } else if (sendRequested.match(a)) {
        const me = getState().session.user?.id;
        const { conversationId, body, replyToSeq } = a.payload;
        const attachments = a.payload.attachments ?? [];
        // A body the server would refuse (blank without files, a control character) is not queued: the composer does not offer it.
        if (me && bodyFault(body, attachments.length > 0) === null) {
          const clientId = deps.uuid();
          const createdAt = new Date(clock.now()).toISOString();
          dispatch(messageQueued({ clientId, conversationId, senderId: me, body, replyToSeq: replyToSeq ?? null, attachments, createdAt }));
          outbox.transmit(clientId);
        }
      } else if (retryRequested.match(a)) {
        dispatch(messageRetried(a.payload));
        outbox.transmit(a.payload);
      } else if (editRequested.match(a)) {
        userAction({ type: 'edit', ...a.payload });
      } else if (deleteRequested.match(a)) {
        userAction({ type: 'delete', ...a.payload });
      } else if (reactRequested.match(a)) {
        userAction({ type: 'react', ...a.payload });
      } else if (typingRequested.match(a)) {
        if (typing.shouldSend(a.payload) && send({ type: 'typing', conversationId: a.payload })) typing.sent(a.payload);
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
