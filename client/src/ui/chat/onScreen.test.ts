import { describe, expect, it } from 'vitest';
import { lastSeqOnScreen } from './onScreen';

/** Rows of `height` px stacked from `top`, seqs from `firstSeq`. */
function rows(count: number, { top = 0, height = 50, firstSeq = 1 } = {}) {
  return Array.from({ length: count }, (_, i) => ({ seq: firstSeq + i, top: top + i * height, bottom: top + (i + 1) * height }));
}

describe('the last message on screen', () => {
  it('is the last row inside the view, not one rendered below it', () => {
    // A view of 400 px over 20 rows of 50 px: rows 1-8 are in it, 9-20 are rendered below (overscan).
    expect(lastSeqOnScreen({ top: 0, bottom: 400 }, rows(20))).toBe(8);
  });

  it('counts a row half in sight, not one barely peeking in', () => {
    expect(lastSeqOnScreen({ top: 0, bottom: 425 }, rows(20))).toBe(9);
    expect(lastSeqOnScreen({ top: 0, bottom: 420 }, rows(20))).toBe(8);
  });

  it('counts a row taller than the view once its middle is reached', () => {
    const tall = [{ seq: 5, top: 100, bottom: 1100 }];
    expect(lastSeqOnScreen({ top: 0, bottom: 500 }, tall)).toBe(0);
    expect(lastSeqOnScreen({ top: 400, bottom: 900 }, tall)).toBe(5);
  });

  it('is 0 when no message row is in sight', () => {
    expect(lastSeqOnScreen({ top: 0, bottom: 400 }, rows(5, { top: 600 }))).toBe(0);
    expect(lastSeqOnScreen({ top: 0, bottom: 400 }, [])).toBe(0);
  });
});
