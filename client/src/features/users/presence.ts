// What a user's presence shows. It is live only while the notifications socket is open (its
// presence frames keep it current): while that socket is down, "online" would be a guess from
// before the break, so it shows as unknown until the socket is back (which refreshes the lists).
import { lastSeen } from '../../lib/time';
import type { ConnectionState } from '../connection/connectionSlice';

export interface ShownPresence {
  state: 'online' | 'offline' | 'unknown';
  text: string;
}

/** Whether presence is live: the notifications socket is open, or has not opened yet (the lists just fetched are current). */
export function selectPresenceLive(s: { connection: ConnectionState }): boolean {
  const n = s.connection.notifications;
  return n.status === 'open' || !n.everOpened;
}

/** A last seen time stays true while presence is not live; "online" does not. */
export function shownPresence(user: { online: boolean; lastSeenAt: string | null }, live: boolean, now = Date.now()): ShownPresence {
  if (!user.online) return { state: 'offline', text: lastSeen(user.lastSeenAt, now) };
  return live ? { state: 'online', text: 'online' } : { state: 'unknown', text: 'status unknown' };
}
