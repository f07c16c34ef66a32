// Pure helpers over one conversation, direct or group: names, watermarks, receipts, ticks.
// Watermarks only grow: whatever path brings a value (list, frame, message), the larger one wins.
import type { Conversation, GroupConversation, Message, Receipt, UserId } from '../../api/types';

/** What the ticks of one of my messages show. */
export type Tick = 'pending' | 'failed' | 'sent' | 'delivered' | 'read';

/** The name a conversation is listed under: the peer's username, or the group's title. */
export function conversationTitle(c: Conversation): string {
  return c.kind === 'direct' ? c.peer.username : c.title;
}

/** What a member who is no longer in a group is told (removed, or left from another tab: nothing tells which). */
export function noLongerInText(c: Conversation): string {
  return `You are no longer in ${conversationTitle(c)}.`;
}

/** Everyone in the conversation I can name, by id (a direct one knows only the peer; add me yourself). */
export function memberNames(c: Conversation | undefined): Record<UserId, string> {
  const out: Record<UserId, string> = {};
  if (!c) return out;
  if (c.kind === 'direct') out[c.peer.id] = c.peer.username;
  else for (const m of c.members) out[m.id] = m.username;
  return out;
}

function recount(c: Conversation): void {
  c.unread = Math.max(0, c.lastSeq - c.myReadSeq);
}

function mergeReceipts(known: readonly Receipt[], incoming: readonly Receipt[]): Receipt[] {
  const byUser = new Map(known.map((r) => [r.userId, r]));
  return incoming.map((r) => {
    const k = byUser.get(r.userId);
    return k ? { userId: r.userId, deliveredSeq: Math.max(k.deliveredSeq, r.deliveredSeq), readSeq: Math.max(k.readSeq, r.readSeq) } : { ...r };
  });
}

/**
 * Merges a conversation as the server sent it (list, `conversation` frame, a route's answer) into
 * what we hold, in place: title, peer and members are the server's; seqs and watermarks only grow.
 */
export function mergeConversation(known: Conversation, incoming: Conversation): void {
  if (incoming.lastSeq >= known.lastSeq) {
    known.lastSeq = incoming.lastSeq;
    known.lastMessage = incoming.lastMessage ?? known.lastMessage;
  }
  known.myReadSeq = Math.max(known.myReadSeq, incoming.myReadSeq);
  if (known.kind === 'direct' && incoming.kind === 'direct') {
    known.peer = incoming.peer;
    known.peerDeliveredSeq = Math.max(known.peerDeliveredSeq, incoming.peerDeliveredSeq);
    known.peerReadSeq = Math.max(known.peerReadSeq, incoming.peerReadSeq);
  } else if (known.kind === 'group' && incoming.kind === 'group') {
    known.title = incoming.title;
    known.members = incoming.members;
    known.receipts = mergeReceipts(known.receipts, incoming.receipts);
  }
  recount(known);
}

/** Moves one member's watermarks up (a receipt, or a message they sent: sending reads up to it). */
export function raiseWatermarks(c: Conversation, userId: UserId, myId: UserId | null, deliveredSeq: number, readSeq: number): void {
  const delivered = Math.max(deliveredSeq, readSeq);
  if (userId === myId) c.myReadSeq = Math.max(c.myReadSeq, readSeq);
  if (c.kind === 'direct') {
    if (userId !== myId && userId === c.peer.id) {
      c.peerDeliveredSeq = Math.max(c.peerDeliveredSeq, delivered);
      c.peerReadSeq = Math.max(c.peerReadSeq, readSeq);
    }
  } else {
    const r = c.receipts.find((x) => x.userId === userId);
    if (r) {
      r.deliveredSeq = Math.max(r.deliveredSeq, delivered);
      r.readSeq = Math.max(r.readSeq, readSeq);
    } else if (c.members.some((m) => m.id === userId)) {
      c.receipts.push({ userId, deliveredSeq: delivered, readSeq });
    }
  }
  recount(c);
}

/** A stored message reached us: the summary moves on, and its sender has read up to it. */
export function noteMessage(c: Conversation, m: Message, myId: UserId | null): void {
  if (m.seq > c.lastSeq) {
    c.lastSeq = m.seq;
    c.lastMessage = m;
  } else if (c.lastMessage?.seq === m.seq) {
    c.lastMessage = m;
  }
  raiseWatermarks(c, m.senderId, myId, m.seq, m.seq);
}

/** The receipts of the other members of a group (who has read what). */
function othersReceipts(c: GroupConversation, myId: UserId | null): Receipt[] {
  const members = new Set(c.members.map((m) => m.id));
  return c.receipts.filter((r) => r.userId !== myId && members.has(r.userId));
}

/** The other members of a group who have read my message `seq`. */
export function readBy(c: Conversation | undefined, seq: number, myId: UserId | null): UserId[] {
  if (!c || c.kind !== 'group') return [];
  return othersReceipts(c, myId)
    .filter((r) => r.readSeq >= seq)
    .map((r) => r.userId);
}

/**
 * The ticks of a stored message of mine: delivered (read) once the peer, or every other member
 * of a group, has it (has read it).
 */
export function tickFor(seq: number, c: Conversation | undefined, myId: UserId | null): Tick {
  if (!c) return 'sent';
  let delivered: number;
  let read: number;
  if (c.kind === 'direct') {
    delivered = c.peerDeliveredSeq;
    read = c.peerReadSeq;
  } else {
    const others = othersReceipts(c, myId);
    if (others.length === 0) return 'sent';
    delivered = Math.min(...others.map((r) => r.deliveredSeq));
    read = Math.min(...others.map((r) => r.readSeq));
  }
  if (seq <= read) return 'read';
  if (seq <= delivered) return 'delivered';
  return 'sent';
}

/** "alice", "alice and bob", "alice, bob and 3 others". */
export function namesList(names: readonly string[], max = 3): string {
  if (names.length === 0) return '';
  if (names.length === 1) return names[0]!;
  if (names.length <= max) return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  const rest = names.length - (max - 1);
  return `${names.slice(0, max - 1).join(', ')} and ${rest} others`;
}

/** What a chat's header says while people type: "typing" (direct), "alice is typing", "alice and bob are typing", "3 people are typing". */
export function typingText(c: Conversation | undefined, typing: readonly UserId[], names: Record<UserId, string>): string | null {
  if (!c || typing.length === 0) return null;
  if (c.kind === 'direct') return 'typing';
  const who = typing.map((id) => names[id] ?? 'Someone');
  if (who.length === 1) return `${who[0]} is typing`;
  if (who.length === 2) return `${who[0]} and ${who[1]} are typing`;
  return `${who.length} people are typing`;
}
