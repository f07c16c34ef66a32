import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../api/types';
import { eventsAfter, eventText, groupEventReceived, groupEventsReducer, peopleOf } from './groupEvents';

const event = (kind: TimelineEvent['kind'], extra: Partial<TimelineEvent> = {}): TimelineEvent => ({
  num: 1,
  kind,
  actorId: 'u-ann',
  userIds: [],
  title: null,
  afterSeq: 0,
  at: '2026-12-02T10:00:00Z',
  ...extra,
});
const names: Record<string, string> = { 'u-ann': 'ann', 'u-ben': 'ben', 'u-cat': 'cat' };
const nameOf = (id: string) => names[id] ?? 'Someone';

describe('group events', () => {
  it('read as the reader sees them', () => {
    expect(eventText(event('created', { title: 'Trio', userIds: ['u-ben', 'u-cat'] }), nameOf, 'u-ben')).toBe('ann created the group “Trio” with you and cat');
    expect(eventText(event('created', { title: 'Solo' }), nameOf, 'u-ann')).toBe('You created the group “Solo”');
    expect(eventText(event('added', { userIds: ['u-ben', 'u-cat', 'u-dan'] }), nameOf, null)).toBe('ann added ben, cat and Someone');
    expect(eventText(event('removed', { userIds: ['u-cat'] }), nameOf, 'u-cat')).toBe('ann removed you');
    expect(eventText(event('left', { actorId: 'u-ben' }), nameOf, 'u-ann')).toBe('ben left');
    expect(eventText(event('renamed', { title: 'Trio!' }), nameOf, 'u-ann')).toBe('You renamed the group to “Trio!”');
    expect(eventText(event('owner_changed', { userIds: ['u-ben'] }), nameOf, 'u-cat')).toBe('ben is now the owner');
    expect(eventText(event('owner_changed', { userIds: ['u-ben'] }), nameOf, 'u-ben')).toBe('You are now the owner');
  });

  it('are kept once each, in the order they happened, by the message they follow', () => {
    const renamed = event('renamed', { num: 2, afterSeq: 2, at: '2026-12-02T10:01:00Z', title: 'x' });
    const added = event('added', { num: 3, afterSeq: 2, at: '2026-12-02T10:02:00Z', userIds: ['u-cat'] });
    const created = event('created', { title: 'Trio' });
    let s = groupEventsReducer(undefined, groupEventReceived({ conversationId: 'g', event: added }));
    s = groupEventsReducer(s, groupEventReceived({ conversationId: 'g', event: renamed }));
    s = groupEventsReducer(s, groupEventReceived({ conversationId: 'g', event: created }));
    s = groupEventsReducer(s, groupEventReceived({ conversationId: 'g', event: { ...added } })); // from a page, again
    expect(s.byConversation.g).toEqual([created, renamed, added]);
    expect(eventsAfter(s.byConversation.g, 2)).toEqual([renamed, added]);
    expect(eventsAfter(s.byConversation.g, 1)).toEqual([]);
    expect(eventsAfter(undefined, 0)).toEqual([]);
    expect(peopleOf(s.byConversation.g)).toEqual(['u-ann', 'u-ann', 'u-ann', 'u-cat']);
  });

  it('of the same millisecond are told apart and ordered by their numbers, not their instants', () => {
    const at = '2026-12-02T10:03:00.123Z';
    // Ann removes Ben, then Cat, then leaves, handing the group to Dan, all within a millisecond.
    const removedBen = event('removed', { num: 4, afterSeq: 5, at, userIds: ['u-ben'] });
    const removedCat = event('removed', { num: 5, afterSeq: 5, at, userIds: ['u-cat'] });
    const left = event('left', { num: 6, afterSeq: 5, at });
    const handed = event('owner_changed', { num: 7, afterSeq: 5, at, userIds: ['u-dan'] });
    let s = groupEventsReducer(undefined, groupEventReceived({ conversationId: 'g', event: handed }));
    for (const e of [left, removedCat, removedBen, handed]) s = groupEventsReducer(s, groupEventReceived({ conversationId: 'g', event: e }));
    expect(s.byConversation.g).toEqual([removedBen, removedCat, left, handed]);
    expect(eventsAfter(s.byConversation.g, 5)).toEqual([removedBen, removedCat, left, handed]);
  });

  it('without numbers (relayed by a server from before them) are told apart by what they say, and ordered by place and time', () => {
    const left = event('left', { num: 0, afterSeq: 5, at: '2026-12-02T10:03:00Z' });
    const handed = event('owner_changed', { num: 0, afterSeq: 5, at: '2026-12-02T10:03:00Z', userIds: ['u-dan'] });
    const renamed = event('renamed', { num: 0, afterSeq: 3, at: '2026-12-02T10:04:00Z', title: 'x' });
    let s = groupEventsReducer(undefined, groupEventReceived({ conversationId: 'g', event: renamed }));
    for (const e of [left, handed]) s = groupEventsReducer(s, groupEventReceived({ conversationId: 'g', event: e }));
    // The same event again, now numbered (from a history page of the upgraded server).
    s = groupEventsReducer(s, groupEventReceived({ conversationId: 'g', event: { ...handed, num: 9 } }));
    expect(s.byConversation.g).toEqual([renamed, left, handed]);
  });
});
