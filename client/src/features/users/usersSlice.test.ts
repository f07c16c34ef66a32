import { describe, expect, it } from 'vitest';
import { adminApi } from '../../api/admin';
import { api } from '../../api/http';
import type { UserSummary } from '../../api/types';
import { FakeWebSocket, alice, fakeServer, setup, waitFor } from '../../test/fakes';
import { comparePeople, mergePeople, presenceChanged, usersReducer } from './usersSlice';

const u = (id: string, username: string, online: boolean): UserSummary => ({ id, username, online, lastSeenAt: null });

describe('users', () => {
  it('orders online first, then by username without case', () => {
    const list = [u('1', 'zed', true), u('2', 'Bob', false), u('3', 'amy', false), u('4', 'Carl', true)];
    expect(list.sort(comparePeople).map((x) => x.username)).toEqual(['Carl', 'zed', 'amy', 'Bob']);
  });

  it('merges pages without doubles and applies live presence', () => {
    let users = usersReducer(undefined, { type: 'init' });
    users = usersReducer(users, presenceChanged({ userId: '2', username: 'bob', online: true, lastSeenAt: null }));
    const merged = mergePeople({ users }, [{ users: [u('1', 'amy', true), u('2', 'bob', false)] }, { users: [u('2', 'bob', false), u('3', 'cy', false)] }]);
    expect(merged.map((x) => [x.username, x.online])).toEqual([
      ['amy', true],
      ['bob', true],
      ['cy', false],
    ]);
  });
});

describe('users announced by user.registered', () => {
  it('are listed at once, and stay until a list answer carries them', async () => {
    let listed = [u('u-alice', 'alice', true)];
    const server = fakeServer({
      'GET /api/auth/currentuser': () => ({ currentUser: alice }),
      'GET /api/conversations': () => ({ conversations: [] }),
      'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
      'GET /api/users': () => ({ users: listed, nextCursor: null }),
    });
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    const sub = store.dispatch(api.endpoints.users.initiate({ q: '' }));
    await sub;
    const pages = () => api.endpoints.users.select({ q: '' })(store.getState()).data?.pages ?? [];
    const people = () => mergePeople(store.getState(), pages()).map((x) => x.username);
    const usersCalls = () => server.calls.filter((c) => c.path === '/api/users').length;
    FakeWebSocket.last('/ws/notifications').open();

    // The refetch this frame starts is answered before the users service stored dan.
    const before = usersCalls();
    FakeWebSocket.last('/ws/notifications').receive({ type: 'user.registered', user: { id: 'u-dan', username: 'dan' } });
    expect(people()).toEqual(['alice', 'dan']);
    // A search by prefix shows them only when it matches.
    expect(mergePeople(store.getState(), [], 'D').map((x) => x.username)).toEqual(['dan']);
    expect(mergePeople(store.getState(), [], 'x')).toEqual([]);
    await waitFor(() => usersCalls() > before && api.endpoints.users.select({ q: '' })(store.getState()).status === 'fulfilled', 'refetch');
    expect(people()).toEqual(['alice', 'dan']);
    expect(store.getState().names['u-dan']).toBe('dan');

    // Once listed, the list's entry (with its presence) is the one shown.
    listed = [u('u-alice', 'alice', true), u('u-dan', 'dan', true)];
    await sub.refetch();
    expect(store.getState().users.newcomers).toEqual([]);
    expect(mergePeople(store.getState(), pages()).map((x) => [x.username, x.online])).toEqual([
      ['alice', true],
      ['dan', true],
    ]);
    sub.unsubscribe();
  });
});

describe('disabled accounts', () => {
  it('are known from the admin’s accounts list and their own disable and enable', async () => {
    fakeServer({
      'GET /api/admin/users': () => ({
        users: [
          { id: 'u-bob', username: 'bob', email: 'b@x', role: 'member', disabled: true, createdAt: '2025-01-01T00:00:00Z' },
          { id: 'u-cy', username: 'cy', email: 'c@x', role: 'member', disabled: false, createdAt: '2025-01-01T00:00:00Z' },
        ],
        nextCursor: null,
      }),
      'POST /api/admin/users/u-cy/disable': () => undefined,
      'POST /api/admin/users/u-bob/enable': () => undefined,
    });
    const { store } = setup();
    await store.dispatch(adminApi.endpoints.adminUsers.initiate(undefined, { subscribe: false }));
    expect(store.getState().users.disabled).toEqual({ 'u-bob': true });
    await store.dispatch(adminApi.endpoints.setUserDisabled.initiate({ id: 'u-cy', disabled: true }));
    await store.dispatch(adminApi.endpoints.setUserDisabled.initiate({ id: 'u-bob', disabled: false }));
    await waitFor(() => store.getState().users.disabled['u-cy'] === true, 'cy disabled');
    expect(store.getState().users.disabled['u-bob']).toBeUndefined();
  });
});
