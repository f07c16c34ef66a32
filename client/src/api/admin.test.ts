import { beforeEach, describe, expect, it } from 'vitest';
import type { AdminUser } from './types';
import { adminApi } from './admin';
import { api } from './http';
import { FakeWebSocket, fakeServer, setup, waitFor } from '../test/fakes';

function account(n: number, extra: Partial<AdminUser> = {}): AdminUser {
  return {
    id: `u-${n}`,
    username: `user${n}`,
    email: `user${n}@example.com`,
    role: n === 0 ? 'admin' : 'member',
    disabled: false,
    createdAt: '2025-01-01T00:00:00Z',
    resetExpiresAt: null,
    ...extra,
  };
}

let accounts: AdminUser[];
let policy: string;
let server: ReturnType<typeof fakeServer>;

/** The store's state as the injected endpoints' selectors type it. */
const state = (store: ReturnType<typeof setup>['store']) => store.getState() as never;

/** `resetExpiresAt` of account u-1 as the cached list shows it. */
const listedReset = (store: ReturnType<typeof setup>['store']) =>
  (adminApi.endpoints.adminUsers.select()(state(store)).data?.pages ?? []).flatMap((p) => p.users).find((u) => u.id === 'u-1')
    ?.resetExpiresAt;

/** The body of the request being answered (the fake server has read it already). */
const lastBody = () => server.calls.at(-1)?.body;

beforeEach(() => {
  accounts = [0, 1, 2].map((n) => account(n));
  policy = 'open';
  server = fakeServer({
    'GET /api/auth/currentuser': () => ({ currentUser: account(0) }),
    'GET /api/conversations': () => ({ conversations: [] }),
    'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
    'GET /api/admin/settings': () => ({ settings: { signup: policy } }),
    'PATCH /api/admin/settings': () => {
      policy = (lastBody() as { signup: string }).signup;
      return { settings: { signup: policy } };
    },
    'POST /api/admin/invites': () => {
      const body = lastBody() as { maxUses: number };
      return { invite: { code: 'code-1', expiresAt: '2025-01-08T00:00:00Z', usesLeft: body.maxUses } };
    },
    'GET /api/admin/users': (url) => {
      const after = url.searchParams.get('cursor');
      const limit = Number(url.searchParams.get('limit'));
      const start = after ? accounts.findIndex((a) => a.id === after) + 1 : 0;
      const page = accounts.slice(start, start + limit);
      const more = start + limit < accounts.length;
      return { users: page, nextCursor: more ? (page[page.length - 1]?.id ?? null) : null };
    },
    'POST /api/admin/users/u-1/password-reset': () => {
      accounts[1] = { ...accounts[1]!, resetExpiresAt: '2025-01-02T00:00:00Z' };
      return { reset: { code: 'reset-1', expiresAt: '2025-01-02T00:00:00Z' } };
    },
    'DELETE /api/admin/users/u-1/password-reset': () => {
      if (!accounts[1]!.resetExpiresAt) {
        return new Response(JSON.stringify({ error: { code: 'not_found', message: 'not found' } }), { status: 404 });
      }
      accounts[1] = { ...accounts[1]!, resetExpiresAt: null };
      return undefined;
    },
    'POST /api/admin/users/u-1/disable': () => {
      accounts[1] = { ...accounts[1]!, disabled: true };
      return undefined;
    },
  });
});

describe('the admin API', () => {
  it('changing the sign-up policy updates the cached settings with the answer', async () => {
    const { store } = setup();
    await store.dispatch(adminApi.endpoints.adminSettings.initiate());
    await store.dispatch(adminApi.endpoints.updateAdminSettings.initiate({ signup: 'invite' }));
    const cached = () => adminApi.endpoints.adminSettings.select()(state(store)).data?.settings.signup;
    await waitFor(() => cached() === 'invite', 'the cached policy');
    expect(server.calls.filter((c) => c.path === '/api/admin/settings' && c.method === 'GET')).toHaveLength(1);
    const patch = server.calls.find((c) => c.method === 'PATCH');
    expect(patch?.body).toEqual({ signup: 'invite' });
  });

  it('creates an invitation with the chosen uses and validity', async () => {
    const { store } = setup();
    const result = await store.dispatch(adminApi.endpoints.createInvite.initiate({ maxUses: 3, expiresInHours: 24 }));
    expect(result.data?.invite).toEqual({ code: 'code-1', expiresAt: '2025-01-08T00:00:00Z', usesLeft: 3 });
    expect(server.calls.at(-1)?.body).toEqual({ maxUses: 3, expiresInHours: 24 });
  });

  it('disabling an account refetches the list, which then shows it disabled', async () => {
    const { store } = setup();
    const list = store.dispatch(adminApi.endpoints.adminUsers.initiate());
    await list;
    const before = server.calls.filter((c) => c.path === '/api/admin/users').length;
    await store.dispatch(adminApi.endpoints.setUserDisabled.initiate({ id: 'u-1', disabled: true }));
    const shown = () =>
      (adminApi.endpoints.adminUsers.select()(state(store)).data?.pages ?? []).flatMap((p) => p.users).find((u) => u.id === 'u-1');
    await waitFor(() => shown()?.disabled === true, 'the refetched list');
    expect(server.calls.filter((c) => c.path === '/api/admin/users').length).toBe(before + 1);
    list.unsubscribe();
  });

  it('making a reset link refetches the list, which then shows until when it works', async () => {
    const { store } = setup();
    const list = store.dispatch(adminApi.endpoints.adminUsers.initiate());
    await list;
    const result = await store.dispatch(adminApi.endpoints.createPasswordReset.initiate('u-1'));
    expect(result.data?.reset.code).toBe('reset-1');
    await waitFor(() => listedReset(store) === '2025-01-02T00:00:00Z', 'the expiry in the list');
    list.unsubscribe();
  });

  it('revoking a reset link refetches the list, even when the server had none left to revoke', async () => {
    accounts[1] = { ...accounts[1]!, resetExpiresAt: '2025-01-02T00:00:00Z' };
    const { store } = setup();
    const list = store.dispatch(adminApi.endpoints.adminUsers.initiate());
    await list;
    await store.dispatch(adminApi.endpoints.revokePasswordReset.initiate('u-1'));
    expect(server.calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/api/admin/users/u-1/password-reset']);
    await waitFor(() => listedReset(store) === null, 'no link in the list');

    // Used or expired meanwhile: the 404 is shown, and the list is brought up to date anyway.
    const fetches = () => server.calls.filter((c) => c.path === '/api/admin/users').length;
    const before = fetches();
    const again = await store.dispatch(adminApi.endpoints.revokePasswordReset.initiate('u-1'));
    expect(again.error).toMatchObject({ status: 404 });
    await waitFor(() => fetches() === before + 1, 'the list fetched again');
    list.unsubscribe();
  });

  it('pages through accounts with the cursor the server gave', async () => {
    accounts = Array.from({ length: 120 }, (_, n) => account(n));
    const { store } = setup();
    const list = store.dispatch(adminApi.endpoints.adminUsers.initiate());
    await list;
    await store.dispatch(adminApi.endpoints.adminUsers.initiate(undefined, { direction: 'forward' }));
    await store.dispatch(adminApi.endpoints.adminUsers.initiate(undefined, { direction: 'forward' }));
    const pages = adminApi.endpoints.adminUsers.select()(state(store)).data?.pages ?? [];
    expect(pages.flatMap((p) => p.users).map((u) => u.id)).toEqual(accounts.map((a) => a.id));
    expect(pages.at(-1)?.nextCursor).toBeNull();
    expect(server.calls.filter((c) => c.path === '/api/admin/users').map((c) => c.search.get('cursor'))).toEqual([null, 'u-49', 'u-99']);
    list.unsubscribe();
  });

  it('someone signing up while the list is open adds them to it', async () => {
    const { store } = setup();
    const list = store.dispatch(adminApi.endpoints.adminUsers.initiate());
    await list;
    await store.dispatch(api.endpoints.currentUser.initiate()); // signed in: the sockets open
    FakeWebSocket.last('/ws/notifications').open();
    accounts.push(account(3));
    FakeWebSocket.last('/ws/notifications').receive({ type: 'user.registered', user: { id: 'u-3', username: 'user3' } });
    const listed = () => (adminApi.endpoints.adminUsers.select()(state(store)).data?.pages ?? []).flatMap((p) => p.users).map((u) => u.id);
    await waitFor(() => listed().includes('u-3'), 'the newcomer in the list');
    list.unsubscribe();
  });
});
