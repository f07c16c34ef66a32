import { describe, expect, it } from 'vitest';
import type { GroupConversation } from '../../api/types';
import { conversationsLoaded } from '../../test/actions';
import { bob, carol, group } from '../../test/fakes';
import { conversationReceived } from '../chat/chatSlice';
import { notificationReceived } from '../notifications/notificationsSlice';
import { namesReducer, senderNames, type NamesState } from './namesSlice';
import { presenceChanged } from './usersSlice';

const reduce = (...actions: { type: string }[]): NamesState =>
  actions.reduce((s, a) => namesReducer(s, a as never), namesReducer(undefined, { type: 'init' }));

describe('known names', () => {
  it('a member who left or was removed keeps their name in the group', () => {
    const before = group('g', 3);
    const after = { ...before, members: (before as GroupConversation).members.filter((m) => m.id !== carol.id) };
    const known = reduce(conversationsLoaded([before]), conversationReceived(after));
    expect(senderNames(known, after)[carol.id]).toBe('carol');
    expect(senderNames(known, after)[bob.id]).toBe('bob');
  });

  it('learns names from presence and notifications too', () => {
    const known = reduce(
      presenceChanged({ userId: 'u-dan', username: 'dan', online: true, lastSeenAt: null }),
      notificationReceived({
        id: 'n1',
        kind: 'message',
        conversationId: 'g',
        seq: 1,
        from: { id: 'u-eve', username: 'eve' },
        preview: 'hi',
        createdAt: '2025-01-01T10:00:00Z',
        mentioned: false,
        readAt: null,
      }),
    );
    expect(senderNames(known, group('g', 1))).toMatchObject({ 'u-dan': 'dan', 'u-eve': 'eve', [carol.id]: 'carol' });
  });
});
