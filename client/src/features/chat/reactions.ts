// Which reactions the server takes on a message: the web client offers only those.
import { MAX_REACTIONS, MAX_REACTIONS_IN_ALL, MAX_REACTIONS_PER_MEMBER } from '../../api/generated/limits';
import type { Reaction, UserId } from '../../api/types';

/**
 * Whether `emoji` is offered on a message with these `reactions`: always when it is mine there (to take it back), else while
 * the server would take it (MAX_REACTIONS different ones a message, MAX_REACTIONS_PER_MEMBER of
 * them mine, MAX_REACTIONS_IN_ALL in all).
 */
export function mayReact(reactions: readonly Reaction[], myId: UserId | null, emoji: string): boolean {
  const mine = reactions.filter((r) => myId !== null && r.userIds.includes(myId));
  if (mine.some((r) => r.emoji === emoji)) return true;
  if (mine.length >= MAX_REACTIONS_PER_MEMBER) return false;
  if (reactions.reduce((n, r) => n + r.userIds.length, 0) >= MAX_REACTIONS_IN_ALL) return false;
  return reactions.length < MAX_REACTIONS || reactions.some((r) => r.emoji === emoji);
}
