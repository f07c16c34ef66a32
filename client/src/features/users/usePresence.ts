// The one way components read presence: whether it is live, and what a user's presence shows.
import { useCallback } from 'react';
import { useAppSelector } from '../../app/hooks';
import { selectPresenceLive, shownPresence, type ShownPresence } from './presence';

/** What a user's presence shows at `now` (default: the current time). */
export type PresenceOf = (user: { online: boolean; lastSeenAt: string | null }, now?: number) => ShownPresence;

/**
 * `shownPresence` with this store's liveness (`selectPresenceLive`). The function changes only
 * when liveness does, so memoized rows that take it render again only then.
 */
export function usePresence(): PresenceOf {
  const live = useAppSelector(selectPresenceLive);
  return useCallback<PresenceOf>((user, now) => shownPresence(user, live, now), [live]);
}
