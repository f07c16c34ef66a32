import { describe, expect, it } from 'vitest';
import { edgePages, rowInSight } from './opening';

describe('a list opening at a message', () => {
  const view = { top: 100, bottom: 500 };

  it('is open once that message is shown inside the view', () => {
    expect(rowInSight(view, { top: 280, bottom: 320, shown: true })).toBe(true);
    expect(rowInSight(view, { top: 480, bottom: 540, shown: true })).toBe(true); // partly in sight
  });

  it('is still opening while the list keeps its rows hidden (Virtuoso scrolling to it), or the row is elsewhere', () => {
    expect(rowInSight(view, { top: 280, bottom: 320, shown: false })).toBe(false);
    expect(rowInSight(view, { top: 500, bottom: 540, shown: true })).toBe(false);
    expect(rowInSight(view, { top: 40, bottom: 100, shown: true })).toBe(false);
    expect(rowInSight(view, null)).toBe(false);
  });
});

describe('the pages a list loads at its edges', () => {
  // 50 items, the first one at index 1000: seqs 127-176 of a window around a search result.
  const first = 1000;
  const count = 50;

  it('loads none while opening, whatever it renders (rendering from the top before scrolling to the message)', () => {
    expect(edgePages({ startIndex: 1000, endIndex: 1020 }, first, count, { opening: true, detached: true })).toEqual({ older: false, newer: false });
    expect(edgePages({ startIndex: 1030, endIndex: 1049 }, first, count, { opening: true, detached: true })).toEqual({ older: false, newer: false });
  });

  it('once open, loads older pages when the first item is rendered', () => {
    expect(edgePages({ startIndex: 1000, endIndex: 1030 }, first, count, { opening: false, detached: true })).toEqual({ older: true, newer: false });
    expect(edgePages({ startIndex: 1005, endIndex: 1030 }, first, count, { opening: false, detached: true })).toEqual({ older: false, newer: false });
  });

  it('once open, loads newer pages at the last item only for a window that stops short of the newest messages', () => {
    expect(edgePages({ startIndex: 1020, endIndex: 1049 }, first, count, { opening: false, detached: true })).toEqual({ older: false, newer: true });
    expect(edgePages({ startIndex: 1020, endIndex: 1049 }, first, count, { opening: false, detached: false })).toEqual({ older: false, newer: false });
  });

  it('loads nothing for an empty list or before any range is known', () => {
    expect(edgePages(null, first, count, { opening: false, detached: true })).toEqual({ older: false, newer: false });
    expect(edgePages({ startIndex: 1000, endIndex: 1000 }, first, 0, { opening: false, detached: true })).toEqual({ older: false, newer: false });
  });
});
