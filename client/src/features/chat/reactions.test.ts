import { describe, expect, it } from 'vitest';
import { MAX_REACTIONS, MAX_REACTIONS_IN_ALL, MAX_REACTIONS_PER_MEMBER } from '../../api/generated/limits';
import { alice, bob } from '../../test/fakes';
import { mayReact } from './reactions';

const emoji = (i: number) => String.fromCodePoint(0x1f600 + i);

describe('the reactions offered on a message', () => {
  it('stops offering new ones once I have added as many as the server takes, but lets me take mine back', () => {
    const mine = Array.from({ length: MAX_REACTIONS_PER_MEMBER }, (_, i) => ({ emoji: emoji(i), userIds: [alice.id] }));
    const m = [...mine, { emoji: '👍', userIds: [bob.id] }];
    expect(mayReact(m, alice.id, '👍')).toBe(false);
    expect(mayReact(m, alice.id, '🎉')).toBe(false);
    expect(mayReact(m, alice.id, emoji(0))).toBe(true);
    expect(mayReact(mine.slice(1), alice.id, '🎉')).toBe(true);
  });

  it('offers only the ones already there once a message has as many different ones as the server takes', () => {
    const full = Array.from({ length: MAX_REACTIONS }, (_, i) => ({ emoji: emoji(i), userIds: [bob.id] }));
    expect(mayReact(full, alice.id, '🎉')).toBe(false);
    expect(mayReact(full, alice.id, emoji(3))).toBe(true);
  });

  it('offers none once a message holds as many reactions in all as the server takes', () => {
    const crowded = [{ emoji: '👍', userIds: Array.from({ length: MAX_REACTIONS_IN_ALL }, (_, i) => `u-${i}`) }];
    expect(mayReact(crowded, alice.id, '👍')).toBe(false);
    expect(mayReact([{ ...crowded[0]!, userIds: crowded[0]!.userIds.slice(1) }], alice.id, '👍')).toBe(true);
  });
});
