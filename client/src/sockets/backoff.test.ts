import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('doubles up to the cap, with jitter in the upper half', () => {
    const opts = { baseMs: 500, maxMs: 30_000 };
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, () => 0, opts))).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, () => 1, opts))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(50, () => 1, opts)).toBe(30_000);
    expect(backoffDelay(50, () => 0, opts)).toBe(15_000);
  });
});
