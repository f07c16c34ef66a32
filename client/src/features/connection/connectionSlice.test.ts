import { describe, expect, it } from 'vitest';
import { browserOnlineChanged, connectionReducer, selectBanner, socketConnecting, socketOpened, socketWaiting } from './connectionSlice';

const banner = (...actions: { type: string }[]) =>
  selectBanner({ connection: actions.reduce((s, a) => connectionReducer(s, a as never), connectionReducer(undefined, { type: 'init' })) });

describe('connection banner', () => {
  it('is quiet while signed out and during the first connect', () => {
    expect(banner().kind).toBe('none');
    expect(banner(socketConnecting({ name: 'chat', attempt: 0 })).kind).toBe('none');
  });

  it('shows a countdown while a socket waits to retry, and "connecting" on a reconnect', () => {
    expect(banner(socketOpened({ name: 'chat' }), socketWaiting({ name: 'chat', attempt: 1, retryAt: 42 }))).toEqual({ kind: 'waiting', retryAt: 42 });
    expect(banner(socketOpened({ name: 'chat' }), socketConnecting({ name: 'chat', attempt: 0 })).kind).toBe('connecting');
    expect(banner(socketOpened({ name: 'chat' }), socketOpened({ name: 'notifications' })).kind).toBe('none');
  });

  it('says offline when the browser is', () => {
    expect(banner(socketOpened({ name: 'chat' }), browserOnlineChanged(false)).kind).toBe('offline');
  });
});
