import { describe, expect, it } from 'vitest';
import type { UserSummary } from '../../api/types';
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
