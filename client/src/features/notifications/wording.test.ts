import { describe, expect, it } from 'vitest';
import type { Conversation } from '../../api/types';
import { groupTitleOf, notificationContext, notificationTitle } from './wording';

const from = { id: 'u-ann', username: 'ann' };

describe('what a notification says of itself', () => {
  it('a mention says so, and where', () => {
    expect(notificationTitle({ from, mentioned: true }, 'Team')).toBe('ann mentioned you in Team');
    expect(notificationContext(true, 'Team')).toBe(' mentioned you in Team');
    // A group whose title is not known here yet.
    expect(notificationTitle({ from, mentioned: true }, null)).toBe('ann mentioned you');
  });

  it('any other message names its group, and a direct one only its sender', () => {
    expect(notificationTitle({ from, mentioned: false }, 'Team')).toBe('ann in Team');
    expect(notificationTitle({ from, mentioned: false }, null)).toBe('ann');
  });

  it('only a group has a title to name', () => {
    const group = { kind: 'group', title: 'Team' } as Conversation;
    const direct = { kind: 'direct', peer: { id: 'u-ann', username: 'ann' } } as Conversation;
    expect([groupTitleOf(group), groupTitleOf(direct), groupTitleOf(undefined)]).toEqual(['Team', null, null]);
  });
});
