// What each `/ws/chat` server frame does to the store.
import type { ChatClientFrame, ChatServerFrame, Conversation, ErrorCode, GroupConversation, Message, UserId } from '../../api/types';
import {
  conversationReceived,
  conversationRemoved,
  messageAccepted,
  messageFailed,
  messageReceived,
  messageUpdated,
  receiptReceived,
} from '../../features/chat/chatSlice';
import { groupEventReceived } from '../../features/chat/groupEvents';
import { noLongerInText } from '../../features/chat/conversation';
import { fillChanges, fillConversation } from '../../features/chat/history';
import { mentionEdited } from '../../features/notifications/notificationsSlice';
import { noticeShown } from '../../features/notices/noticesSlice';
import { mentionsIn, usernameLookup } from '../../lib/mentions';
import { asSentence } from '../../lib/sentence';
import type { SocketDispatch, SocketRootState } from '../state';
import type { Outbox } from './outbox';
import type { TypingTimers } from './typing';

export interface FrameContext {
  dispatch: SocketDispatch;
  getState: () => SocketRootState;
  send: (frame: ChatClientFrame) => boolean;
  outbox: Outbox;
  typing: TypingTimers;
  /** Catch up by seq and change counter, as after a reconnect. */
  catchUp: () => void;
  /** Fetch the conversation list again (a frame named a conversation we do not know). */
  refreshConversations: () => void;
  /**
   * Whether the user asked for an edit, delete or reaction a moment ago: an `error` frame without
   * a clientId is then its refusal, shown to them. Otherwise it answers a background frame (say a
   * read receipt racing a removal) and only goes to the console.
   */
  userActionPending: () => boolean;
}

/** A refusal as a sentence for the user: the server's own words, or a plain one for its code. */
export function refusalText(code: ErrorCode, message: string): string {
  if (message.trim()) return asSentence(message);
  if (code === 'forbidden') return 'You are not allowed to do that.';
  if (code === 'not_found') return 'That conversation or message is not there any more.';
  if (code === 'invalid_input') return 'The server did not accept that.';
  return 'Something went wrong.';
}

/**
 * Messages of `c` that reached this client and are not read yet are reported delivered (up to
 * its lastSeq), so their senders see them arrive; read is reported only when they are seen.
 */
export function reportDelivered(send: FrameContext['send'], c: Conversation, me: UserId | null | undefined): void {
  if (c.lastMessage && c.lastMessage.senderId !== me && c.lastSeq > c.myReadSeq) {
    send({ type: 'delivered', conversationId: c.id, seq: c.lastSeq });
  }
}

function onMessage(ctx: FrameContext, m: Message): void {
  const before = ctx.getState().chat;
  const entry = before.messages[m.conversationId];
  const hole = entry !== undefined && !entry.hasMoreAfter && m.seq > entry.syncedSeq + 1;
  ctx.dispatch(messageReceived(m));
  const mine = m.senderId === before.myId;
  if (mine) ctx.outbox.settle(m.clientId);
  if (!before.conversations[m.conversationId]) ctx.refreshConversations();
  if (hole) void ctx.dispatch(fillConversation(m.conversationId, m.seq));
  if (!mine) ctx.send({ type: 'delivered', conversationId: m.conversationId, seq: m.seq });
}

/** The members a group's message names, by their usernames as the server counts them. */
function mentionsOf(conversation: GroupConversation, body: string): string[] {
  return mentionsIn(body, usernameLookup(conversation.members.map((m) => m.username)));
}

function onMessageUpdated(ctx: FrameContext, message: Message, change: number): void {
  const before = ctx.getState().chat;
  const id = message.conversationId;
  const applied = before.appliedChange[id] ?? 0;
  ctx.dispatch(messageUpdated({ message, change }));
  const conversation = before.conversations[id];
  if (conversation?.kind === 'group' && message.deletedAt === null) {
    const mentionsMe = mentionsOf(conversation, message.body).includes(ctx.getState().session.user?.username ?? '');
    ctx.dispatch(mentionEdited({ conversationId: id, seq: message.seq, mentionsMe }));
  }
  if (!conversation) ctx.refreshConversations();
  // A change number skipped: some update never reached this socket. Ask for what changed since.
  else if (before.messages[id] && change > applied + 1) void ctx.dispatch(fillChanges(id, change));
}

export function handleFrame(ctx: FrameContext, frame: ChatServerFrame): void {
  switch (frame.type) {
    case 'accepted':
      ctx.outbox.settle(frame.clientId);
      ctx.dispatch(messageAccepted(frame.clientId));
      break;
    case 'message':
      onMessage(ctx, frame.message);
      break;
    case 'message.updated':
      onMessageUpdated(ctx, frame.message, frame.change);
      break;
    case 'receipt':
      ctx.dispatch(receiptReceived(frame));
      break;
    case 'typing':
      if (frame.userId !== ctx.getState().chat.myId) ctx.typing.received(frame.conversationId, frame.userId);
      break;
    case 'conversation': {
      const isNew = !ctx.getState().chat.conversations[frame.conversation.id];
      ctx.dispatch(conversationReceived(frame.conversation));
      if (frame.event) ctx.dispatch(groupEventReceived({ conversationId: frame.conversation.id, event: frame.event }));
      // Added to a group: its history arrived here like any message does.
      if (isNew) reportDelivered(ctx.send, frame.conversation, ctx.getState().chat.myId);
      break;
    }
    case 'removed': {
      const { conversations, leaving } = ctx.getState().chat;
      const c = conversations[frame.conversationId];
      // Not left from this tab: say so, or the group just vanishes (from under the eyes of whoever
      // had it open). Worded for both causes: the frame does not tell a removal from leaving in
      // another tab.
      if (c && !leaving[c.id]) ctx.dispatch(noticeShown(noLongerInText(c)));
      ctx.dispatch(conversationRemoved(frame.conversationId));
      break;
    }
    case 'resync':
      ctx.catchUp();
      break;
    case 'pong':
      break;
    case 'error': {
      const text = refusalText(frame.code, frame.message);
      if (frame.clientId) {
        ctx.outbox.settle(frame.clientId);
        ctx.dispatch(messageFailed({ clientId: frame.clientId, error: text, refused: true }));
      } else if (ctx.userActionPending()) {
        ctx.dispatch(noticeShown(text));
      } else {
        console.warn('chat socket error frame', frame.code, frame.message);
      }
      break;
    }
    default:
      break; // a frame type this version does not know
  }
}
