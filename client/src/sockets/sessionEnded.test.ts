import { beforeEach, describe, expect, it } from 'vitest';
import { api } from '../api/http';
import { alice, FakeWebSocket, fakeServer, setup, waitFor } from '../test/fakes';

let signedIn: boolean;

beforeEach(() => {
  signedIn = true;
  fakeServer({
    'GET /api/auth/currentuser': () => ({ currentUser: signedIn ? alice : null }),
    'GET /api/conversations': () => ({ conversations: [] }),
    'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
    'POST /api/auth/signout': () => undefined,
  });
});

describe('a session ended on the server', () => {
  it('signs the tab out as soon as the server closes its socket for it', async () => {
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    FakeWebSocket.last('/ws/notifications').open();
    FakeWebSocket.last('/ws/chat').open();
    expect(store.getState().session.status).toBe('signedIn');

    // The admin disabled the account: the server closes the socket with 4001, and from now on
    // the cookie is refused.
    signedIn = false;
    FakeWebSocket.last('/ws/notifications').drop(4001, 'account disabled');
    await waitFor(() => store.getState().session.status === 'signedOut', 'signed out');
    expect(FakeWebSocket.last('/ws/chat').closedByClient).not.toBeNull();
    // The sign-in page can say why.
    expect(store.getState().session.ended).toBe('disabled');
  });

  it('keeps why, as the close reason said, for the sign-in page; signing in again forgets it', async () => {
    for (const [reason, ended] of [
      ['session expired', 'expired'],
      ['session ended', 'ended'],
      ['', 'ended'], // no reason given: ended all the same
    ] as const) {
      signedIn = true;
      const { store } = setup();
      await store.dispatch(api.endpoints.currentUser.initiate());
      FakeWebSocket.last('/ws/notifications').open();
      signedIn = false;
      FakeWebSocket.last('/ws/notifications').drop(4001, reason);
      await waitFor(() => store.getState().session.status === 'signedOut', 'signed out');
      expect(store.getState().session.ended).toBe(ended);
      signedIn = true;
      await store.dispatch(api.endpoints.currentUser.initiate(undefined, { forceRefetch: true }));
      expect(store.getState().session).toMatchObject({ status: 'signedIn', ended: null });
    }
  });

  it('signing out here gives no reason', async () => {
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    await store.dispatch(api.endpoints.signout.initiate());
    expect(store.getState().session).toMatchObject({ status: 'signedOut', ended: null });
  });

  it('a socket dropped for other reasons does not ask', async () => {
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    FakeWebSocket.last('/ws/notifications').open();
    const asked = () => (globalThis.fetch as unknown as { mock: { calls: unknown[][] } }).mock.calls.filter((c) => String(c[0] instanceof Request ? c[0].url : c[0]).endsWith('/api/auth/currentuser')).length;
    const before = asked();
    FakeWebSocket.last('/ws/notifications').drop(1006);
    await new Promise((r) => setTimeout(r, 20));
    expect(asked()).toBe(before);
    expect(store.getState().session.status).toBe('signedIn');
  });
});
