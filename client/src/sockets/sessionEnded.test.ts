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
    FakeWebSocket.last('/ws/notifications').drop(4001);
    await waitFor(() => store.getState().session.status === 'signedOut', 'signed out');
    expect(FakeWebSocket.last('/ws/chat').closedByClient).not.toBeNull();
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
