import { beforeEach, describe, expect, it } from 'vitest';
import { api } from '../api/http';
import { alice, bob, FakeTabs, FakeWebSocket, fakeServer, group as groupOf, setup, waitFor } from '../test/fakes';

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

  it('keeps why when only the chat socket was told, and a 401 ended the session', async () => {
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    FakeWebSocket.last('/ws/notifications').open();
    FakeWebSocket.last('/ws/chat').open();
    signedIn = false;
    FakeWebSocket.last('/ws/chat').drop(4001, 'account disabled');
    await store.dispatch(api.endpoints.currentUser.initiate(undefined, { forceRefetch: true }));
    await waitFor(() => store.getState().session.status === 'signedOut', 'signed out');
    expect(store.getState().session.ended).toBe('disabled');
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

/** The server's answer to the change, released by the test: meanwhile the old cookie is refused. */
function pendingChange(answer: () => Response) {
  let release = () => {};
  const answered = new Promise<void>((r) => (release = r));
  return {
    answered,
    handler: async () => {
      signedIn = false; // every session of the account has ended…
      await answered;
      signedIn = true; // …and the answer brings this tab a new cookie (or, refused, the old one still works)
      return answer();
    },
    release: () => release(),
  };
}
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('a password change in this tab', () => {
  it('keeps it signed in while the server closes its sockets, and reconnects them at once', async () => {
    const change = pendingChange(() => json(200, { user: alice }));
    fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: signedIn ? alice : null }),
      'GET /api/conversations': () => ({ conversations: [] }),
      'GET /api/notifications': async () => {
        if (signedIn) return { notifications: [], unreadCount: 0 };
        // Sent with the old cookie, refused, and answered only after the change.
        await change.answered;
        await new Promise((r) => setTimeout(r, 10));
        return json(401, { error: { code: 'unauthenticated', message: 'no' } });
      },
      'POST /api/auth/password': change.handler,
    });
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    FakeWebSocket.last('/ws/notifications').open();
    FakeWebSocket.last('/ws/chat').open();
    const sockets = FakeWebSocket.count('/ws/notifications');

    const changed = store.dispatch(api.endpoints.changePassword.initiate({ currentPassword: 'old password', newPassword: 'new password' }));
    // The server ends the old session: the sockets close and ask who we are ("nobody"), and a
    // request sent meanwhile gets 401 but is answered only after the change.
    FakeWebSocket.last('/ws/notifications').drop(4001);
    FakeWebSocket.last('/ws/chat').drop(4001);
    await waitFor(() => store.getState().api.queries['currentUser(undefined)']?.status === 'fulfilled' && !signedIn, 'asked');
    await new Promise((r) => setTimeout(r, 20));
    const late = store.dispatch(api.endpoints.notifications.initiate(undefined, { subscribe: false, forceRefetch: true }));
    change.release();
    await changed;
    expect(store.getState().session.status).toBe('signedIn');
    expect((await late).error).toMatchObject({ status: 401 });
    expect(store.getState().session.status).toBe('signedIn');
    expect(store.getState().session.user).toEqual(alice);
    // Reconnected at once with the new cookie, not after a backoff.
    expect(FakeWebSocket.count('/ws/notifications')).toBe(sockets + 1);
  });

  it('forgets the "nobody" answered meanwhile: the chat still knows who I am after the change', async () => {
    // Else my reads, my own echoed messages and my unread counts go wrong until a reload.
    const change = pendingChange(() => json(200, { user: alice }));
    fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: signedIn ? alice : null }),
      'GET /api/conversations': () => ({ conversations: [] }),
      'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
      'POST /api/auth/password': change.handler,
    });
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    FakeWebSocket.last('/ws/notifications').open();
    FakeWebSocket.last('/ws/chat').open();
    const changed = store.dispatch(api.endpoints.changePassword.initiate({ currentPassword: 'old password', newPassword: 'new password' }));
    await waitFor(() => !signedIn, 'the change reached the server');
    FakeWebSocket.last('/ws/notifications').drop(4001, 'session ended');
    FakeWebSocket.last('/ws/chat').drop(4001, 'session ended');
    // The sockets asked who we are and heard "nobody": the chat forgot me meanwhile.
    await waitFor(() => store.getState().chat.myId === null, '"nobody" answered and applied');
    change.release();
    await changed;
    await waitFor(() => store.getState().chat.myId === alice.id, 'the chat knows who I am again');
    expect(store.getState().session.status).toBe('signedIn');
    expect(store.getState().api.queries['currentUser(undefined)']?.data).toEqual({ currentUser: alice });
  });

  it('a refused change asks the server again whether the session lives', async () => {
    const change = pendingChange(() => json(401, { error: { code: 'invalid_credentials', message: 'wrong password' } }));
    fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: signedIn ? alice : null }),
      'GET /api/conversations': () => ({ conversations: [] }),
      'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
      'POST /api/auth/password': change.handler,
    });
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    FakeWebSocket.last('/ws/notifications').open();

    const changed = store.dispatch(api.endpoints.changePassword.initiate({ currentPassword: 'a guess', newPassword: 'new password' }));
    FakeWebSocket.last('/ws/notifications').drop(4001);
    await new Promise((r) => setTimeout(r, 20));
    expect(store.getState().session.status).toBe('signedIn');
    change.release();
    await changed;
    // A wrong current password is no sign of a dead session; the "nobody" answered meanwhile is
    // checked again, and the server (which took the old cookie all along here) says we are in.
    await new Promise((r) => setTimeout(r, 20));
    expect(store.getState().session.status).toBe('signedIn');
    expect(store.getState().session.user).toEqual(alice);
  });
});

describe('a password change in another tab of this browser', () => {
  /** Two tabs of one browser, both signed in, their sockets open; what each tab's sockets are. */
  async function twoTabs(withNews = true) {
    const hub = new FakeTabs();
    const here = setup(undefined, undefined, hub.tab());
    await here.store.dispatch(api.endpoints.currentUser.initiate());
    FakeWebSocket.last('/ws/notifications').open();
    FakeWebSocket.last('/ws/chat').open();
    const other = setup(undefined, undefined, withNews ? hub.tab() : null);
    await other.store.dispatch(api.endpoints.currentUser.initiate());
    const sockets = { notifications: FakeWebSocket.last('/ws/notifications'), chat: FakeWebSocket.last('/ws/chat') };
    sockets.notifications.open();
    sockets.chat.open();
    return { here: here.store, other: other.store, sockets };
  }
  const serve = (handler: () => Promise<Response>) =>
    fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: signedIn ? alice : null }),
      'GET /api/conversations': () => ({ conversations: [] }),
      'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
      'POST /api/auth/password': handler,
    });

  it('keeps the other tab signed in while the server closes its sockets, then reconnects it', async () => {
    const change = pendingChange(() => json(200, { user: alice }));
    serve(change.handler);
    const { here, other, sockets } = await twoTabs();
    const changed = here.dispatch(api.endpoints.changePassword.initiate({ currentPassword: 'old password', newPassword: 'new password' }));
    await waitFor(() => !signedIn, 'the change reached the server');
    sockets.notifications.drop(4001, 'session ended');
    sockets.chat.drop(4001, 'session ended');
    // The other tab asked who it is and heard "nobody" (the browser's cookie is still the old one).
    await waitFor(() => other.getState().chat.myId === null, '"nobody" answered in the other tab');
    await new Promise((r) => setTimeout(r, 20));
    expect(other.getState().session.status).toBe('signedIn');
    const reconnects = FakeWebSocket.count('/ws/chat');
    change.release();
    await changed;
    await waitFor(() => other.getState().chat.myId === alice.id, 'the other tab knows who it is again');
    expect(other.getState().session).toMatchObject({ status: 'signedIn', user: alice });
    expect(FakeWebSocket.count('/ws/chat')).toBeGreaterThan(reconnects);
  });

  it('a tab that heard nothing of it is signed out', async () => {
    // What the news prevents (and what a browser without BroadcastChannel still does).
    const change = pendingChange(() => json(200, { user: alice }));
    serve(change.handler);
    const { here, other, sockets } = await twoTabs(false);
    const changed = here.dispatch(api.endpoints.changePassword.initiate({ currentPassword: 'old password', newPassword: 'new password' }));
    await waitFor(() => !signedIn, 'the change reached the server');
    sockets.notifications.drop(4001, 'session ended');
    await waitFor(() => other.getState().session.status === 'signedOut', 'signed out');
    change.release();
    await changed;
  });

  it('a tab signed out before the news came asks again, and is signed in with the new cookie', async () => {
    const change = pendingChange(() => json(200, { user: alice }));
    serve(change.handler);
    const { here, other, sockets } = await twoTabs();
    signedIn = false;
    sockets.notifications.drop(4001, 'session ended');
    await waitFor(() => other.getState().session.status === 'signedOut', 'signed out');
    const changed = here.dispatch(api.endpoints.changePassword.initiate({ currentPassword: 'old password', newPassword: 'new password' }));
    change.release();
    await changed;
    await waitFor(() => other.getState().session.status === 'signedIn', 'signed in again');
    expect(other.getState().session.user).toEqual(alice);
  });

  it("the other tab's refused change: this one asks the server again, and stays signed in", async () => {
    const change = pendingChange(() => json(401, { error: { code: 'invalid_credentials', message: 'wrong password' } }));
    serve(change.handler);
    const { here, other, sockets } = await twoTabs();
    const changed = here.dispatch(api.endpoints.changePassword.initiate({ currentPassword: 'a guess', newPassword: 'new password' }));
    await waitFor(() => !signedIn, 'the change reached the server');
    sockets.notifications.drop(4001);
    await waitFor(() => other.getState().chat.myId === null, '"nobody" answered in the other tab');
    change.release();
    await changed;
    await waitFor(() => other.getState().chat.myId === alice.id, 'asked again');
    expect(other.getState().session.status).toBe('signedIn');
  });
});

describe('signing out in one tab while another changes the password', () => {
  it('the tab signed out on purpose stays signed out when the change succeeds', async () => {
    const change = pendingChange(() => json(200, { user: alice }));
    fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: signedIn ? alice : null }),
      'GET /api/conversations': () => ({ conversations: [] }),
      'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
      'POST /api/auth/password': change.handler,
      'POST /api/auth/signout': () => undefined,
    });
    const hub = new FakeTabs();
    const here = setup(undefined, undefined, hub.tab());
    await here.store.dispatch(api.endpoints.currentUser.initiate());
    const other = setup(undefined, undefined, hub.tab());
    await other.store.dispatch(api.endpoints.currentUser.initiate());
    const changed = here.store.dispatch(api.endpoints.changePassword.initiate({ currentPassword: 'old password', newPassword: 'new password' }));
    await waitFor(() => !signedIn, 'the change reached the server');
    await other.store.dispatch(api.endpoints.signout.initiate());
    expect(other.store.getState().session.status).toBe('signedOut');
    change.release();
    await changed;
    await new Promise((r) => setTimeout(r, 50));
    // The reader pressed "Sign out" in this tab: another tab's news must not sign it back in.
    expect(other.store.getState().session.status).toBe('signedOut');
  });
});

describe('the browser signed in as someone else meanwhile', () => {
  it('starts this tab over as that account: nothing of the previous one stays', async () => {
    let who = alice;
    fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: who }),
      'GET /api/conversations': () => ({ conversations: who === alice ? [groupOf('g', 0)] : [] }),
      'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
    });
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    FakeWebSocket.last('/ws/chat').open();
    await waitFor(() => Object.keys(store.getState().chat.conversations).length === 1, "alice's group listed");
    // A reset link for bob was used in another tab of this browser; this tab's socket comes
    // back and it asks who it is.
    who = bob;
    await store.dispatch(api.endpoints.currentUser.initiate(undefined, { forceRefetch: true }));
    await waitFor(() => store.getState().session.user?.id === bob.id && store.getState().session.status === 'signedIn', 'signed in as bob');
    expect(store.getState().chat.conversations).toEqual({});
    expect(store.getState().chat.myId === alice.id).toBe(false);
  });

  it("hearing another tab's reset for another account does the same", async () => {
    fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: signedIn ? alice : bob }),
      'GET /api/conversations': () => ({ conversations: signedIn ? [groupOf('g', 0)] : [] }),
      'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
    });
    const hub = new FakeTabs();
    const other = hub.tab();
    const { store } = setup(undefined, undefined, hub.tab());
    await store.dispatch(api.endpoints.currentUser.initiate());
    FakeWebSocket.last('/ws/chat').open();
    await waitFor(() => Object.keys(store.getState().chat.conversations).length === 1, "alice's group listed");
    signedIn = false; // the browser's cookie is bob's now
    other.tell({ type: 'passwordChanged', user: bob });
    await waitFor(() => store.getState().session.user?.id === bob.id, 'signed in as bob');
    expect(store.getState().chat.conversations).toEqual({});
  });
});
