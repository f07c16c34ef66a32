import { describe, expect, it } from 'vitest';
import {
  connectionReducer,
  socketConnecting,
  socketOpened,
  socketStopped,
  socketWaiting,
  type ConnectionState,
} from '../connection/connectionSlice';
import { selectPresenceLive, shownPresence } from './presence';

const now = Date.parse('2026-01-01T12:00:00Z');
const online = { online: true, lastSeenAt: null };
const offline = { online: false, lastSeenAt: '2026-01-01T11:30:00Z' };

describe('presence as shown', () => {
  it('is live while the notifications socket is open, and before it first opened; not while it is down', () => {
    let s: ConnectionState = connectionReducer(undefined, { type: 'init' });
    const live = () => selectPresenceLive({ connection: s });
    s = connectionReducer(s, socketConnecting({ name: 'notifications', attempt: 0 }));
    expect(live()).toBe(true); // the lists fetched at sign-in are current
    s = connectionReducer(s, socketOpened({ name: 'notifications' }));
    expect(live()).toBe(true);
    s = connectionReducer(s, socketWaiting({ name: 'notifications', attempt: 1, retryAt: now + 1000 }));
    expect(live()).toBe(false);
    s = connectionReducer(s, socketConnecting({ name: 'notifications', attempt: 1 }));
    expect(live()).toBe(false);
    // The chat socket alone does not carry presence.
    s = connectionReducer(s, socketOpened({ name: 'chat' }));
    expect(live()).toBe(false);
    s = connectionReducer(s, socketOpened({ name: 'notifications' }));
    expect(live()).toBe(true);
    s = connectionReducer(s, socketStopped({ name: 'notifications' }));
    expect(live()).toBe(true);
  });

  it('does not assert "online" while not live; a last seen time stays', () => {
    expect(shownPresence(online, true, now)).toEqual({ state: 'online', text: 'online' });
    expect(shownPresence(online, false, now)).toEqual({ state: 'unknown', text: 'status unknown' });
    expect(shownPresence(offline, true, now)).toEqual({ state: 'offline', text: 'last seen 30 min ago' });
    expect(shownPresence(offline, false, now)).toEqual({ state: 'offline', text: 'last seen 30 min ago' });
  });
});
