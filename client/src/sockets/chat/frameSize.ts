// How big a frame is on the wire. The server closes `/ws/chat` (1009, "frame too large") on a
// text frame over MAX_FRAME_BYTES of UTF-8, and a closed socket sends its unaccepted messages
// again on the next open: a frame that does not fit is never sent. A body within
// MAX_BODY_CHARS may still not fit: an emoji is 4 bytes, a control character 6 once escaped,
// and the clientId, reply and attachment ids come on top.
import { MAX_FRAME_BYTES } from '../../api/generated/limits';
import type { Attachment, ChatClientFrame, ClientId, ConversationId } from '../../api/types';

export { MAX_FRAME_BYTES };

/** Why a message, or an edit, that does not fit in a frame is not sent. */
export const TOO_LONG_TEXT = 'This message is too long to send.';

const utf8 = new TextEncoder();

/** The frame's size as it goes on the wire: its JSON, in UTF-8 bytes. */
export function frameBytes(frame: ChatClientFrame): number {
  return utf8.encode(JSON.stringify(frame)).length;
}

/** Whether the server takes the frame (a larger one closes the socket). */
export function fitsInFrame(frame: ChatClientFrame): boolean {
  return frameBytes(frame) <= MAX_FRAME_BYTES;
}

export interface Outgoing {
  clientId: ClientId;
  conversationId: ConversationId;
  body: string;
  replyToSeq: number | null;
  attachments: readonly Attachment[];
}

/** The `send` frame of one of my messages. */
export function sendFrame(m: Outgoing): ChatClientFrame {
  const frame: ChatClientFrame = { type: 'send', clientId: m.clientId, conversationId: m.conversationId, body: m.body };
  if (m.replyToSeq !== null) frame.replyToSeq = m.replyToSeq;
  if (m.attachments.length > 0) frame.attachmentIds = m.attachments.map((a) => a.id);
  return frame;
}

/** A clientId's shape (a UUID): the composer measures a message before it has one. */
const SOME_CLIENT_ID = '00000000-0000-7000-8000-000000000000';

/** Whether a message being written would fit in its `send` frame. */
export function messageFits(m: Omit<Outgoing, 'clientId'>): boolean {
  return fitsInFrame(sendFrame({ ...m, clientId: SOME_CLIENT_ID }));
}
