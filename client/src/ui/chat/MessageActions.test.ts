import { describe, expect, it } from 'vitest';
import { MAX_REACTIONS, MAX_REACTIONS_PER_MEMBER } from '../../api/generated/limits';
import type { Message, Reaction } from '../../api/types';
import { alice, bob, msg } from '../../test/fakes';
import { mayReact } from './MessageActions';

const emoji = (i: number) => String.fromCodePoint(0x1f600 + i);
const withReactions = (reactions: Reaction[]): Message => ({ ...msg('c1', 1), reactions });

describe('the reactions offered on a message', () => {
  it('stops offering new ones once I have added as many as the server takes, but lets me take mine back', () => {
    const mine = Array.from({ length: MAX_REACTIONS_PER_MEMBER }, (_, i) => ({ emoji: emoji(i), userIds: [alice.id] }));
    const m = withReactions([...mine, { emoji: '👍', userIds: [bob.id] }]);
    expect(mayReact(m, alice.id, '👍')).toBe(false);
    expect(mayReact(m, alice.id, '🎉')).toBe(false);
    expect(mayReact(m, alice.id, emoji(0))).toBe(true);
    expect(mayReact(withReactions(mine.slice(1)), alice.id, '🎉')).toBe(true);
  });

  it('offers only the ones already there once a message has as many different ones as the server takes', () => {
    const full = withReactions(Array.from({ length: MAX_REACTIONS }, (_, i) => ({ emoji: emoji(i), userIds: [bob.id] })));
    expect(mayReact(full, alice.id, '🎉')).toBe(false);
    expect(mayReact(full, alice.id, emoji(3))).toBe(true);
  });
});
