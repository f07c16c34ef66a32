// Typing indicators both ways: others' shown for a while after each frame, mine sent at most
// once every few seconds per conversation.
import type { ConversationId, UserId } from '../../api/types';
import { typingExpired, typingReceived } from '../../features/chat/typingSlice';
import type { Clock } from '../reconnectingSocket';
import type { SocketDispatch } from '../state';

/** How long someone's typing indicator lasts without another typing frame. */
export const TYPING_SHOW_MS = 6_000;
/** At most one typing frame per conversation this often. */
export const TYPING_SEND_EVERY_MS = 3_000;

export class TypingTimers {
  private readonly shown = new Map<string, unknown>();
  private readonly sentAt = new Map<ConversationId, number>();

  constructor(
    private readonly clock: Clock,
    private readonly dispatch: SocketDispatch,
  ) {}

  /** `userId` is typing in `conversationId`. */
  received(conversationId: ConversationId, userId: UserId): void {
    const until = this.clock.now() + TYPING_SHOW_MS;
    this.dispatch(typingReceived({ conversationId, userId, until }));
    const key = `${conversationId} ${userId}`;
    const old = this.shown.get(key);
    if (old !== undefined) this.clock.clearTimeout(old);
    this.shown.set(
      key,
      this.clock.setTimeout(() => {
        this.shown.delete(key);
        this.dispatch(typingExpired({ conversationId, userId, now: this.clock.now() }));
      }, TYPING_SHOW_MS),
    );
  }

  /** I type in `conversationId`: whether a frame is due (none was sent in the last few seconds). */
  shouldSend(conversationId: ConversationId): boolean {
    const last = this.sentAt.get(conversationId) ?? -Infinity;
    return this.clock.now() - last >= TYPING_SEND_EVERY_MS;
  }

  /** A typing frame for `conversationId` went out now. */
  sent(conversationId: ConversationId): void {
    this.sentAt.set(conversationId, this.clock.now());
  }

  clear(): void {
    for (const t of this.shown.values()) this.clock.clearTimeout(t);
    this.shown.clear();
    this.sentAt.clear();
  }
}
