// The other tabs of this browser, which share its cookie. A password change in one tab ends the
// sessions of all of them a moment before its answer brings the browser a new cookie: the others
// hear of the change so that they wait for it too, instead of showing the sign-in page.
import type { User } from '../api/types';

export type TabNews =
  /** A change of password was sent from a tab. */
  | { type: 'passwordChanging' }
  /** …and succeeded: the browser's cookie is a new session of `user`. */
  | { type: 'passwordChanged'; user: User }
  /** …or failed: the old cookie still is what it was. */
  | { type: 'passwordUnchanged' };

export interface SessionTabs {
  tell(news: TabNews): void;
  listen(hear: (news: TabNews) => void): void;
}

/** Through a BroadcastChannel (a tab never hears its own news), or nobody where there is none. */
export function browserTabs(): SessionTabs | null {
  if (typeof BroadcastChannel === 'undefined') return null;
  const channel = new BroadcastChannel('gochat-session');
  return {
    tell: (news) => channel.postMessage(news),
    listen: (hear) => channel.addEventListener('message', (e: MessageEvent<TabNews>) => hear(e.data)),
  };
}
