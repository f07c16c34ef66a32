import { describe, expect, it } from 'vitest';
import { msg } from '../../test/fakes';
import { advanceSynced, mergeMessages } from './timeline';

const seqs = (list: { seq: number }[]) => list.map((m) => m.seq);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => msg('c', a + i));

describe('mergeMessages', () => {
  it('appends newer, prepends older, and inserts into holes, in seq order', () => {
    const items = range(5, 7);
    expect(mergeMessages(items, range(8, 9))).toBe(2);
    expect(mergeMessages(items, range(1, 3))).toBe(3);
    expect(mergeMessages(items, [msg('c', 4)])).toBe(1);
    expect(seqs(items)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('never adds a message twice, whichever path brought it', () => {
    const items = range(1, 5);
    expect(mergeMessages(items, [msg('c', 5), msg('c', 3), msg('c', 6), msg('c', 6)])).toBe(1);
    expect(mergeMessages(items, range(1, 5))).toBe(0);
    expect(seqs(items)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('accepts pages in any order', () => {
    const items: ReturnType<typeof msg>[] = [];
    mergeMessages(items, [msg('c', 3), msg('c', 1), msg('c', 2)]);
    expect(seqs(items)).toEqual([1, 2, 3]);
  });
});

describe('advanceSynced', () => {
  it('moves over contiguous messages and stops at a hole', () => {
    const items = [...range(1, 4), ...range(7, 8)];
    expect(advanceSynced(items, 0)).toBe(4);
    expect(advanceSynced(items, 4)).toBe(4);
    expect(advanceSynced(items, 6)).toBe(8);
  });
});
