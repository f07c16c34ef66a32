// A list opened at a message (a search result, a quoted message) is "opening" until the reader
// sees that message. Virtuoso scrolls to its initial item a few frames after the first layout,
// keeping the rows hidden meanwhile; its initial index counts from the first loaded item. An
// older page prepended in that time (the list renders from the top before it scrolls, so it
// reports the start reached) shifts every item down: the index then points at older history,
// which is where the list opened, its start reached again and again. So no page loads at either
// edge while the list is opening; once it is open, the edges it already reached load then.
import type { Span } from './onScreen';

/**
 * Past this long the list counts as open anyway, so history never stops loading. Generous: on a
 * busy device Virtuoso may take seconds to get there, and loading a page before is the bug.
 */
export const OPENING_MAX_MS = 10_000;

/** Whether a row is shown (not hidden by the list) and at least partly inside the view. */
export function rowInSight(view: Span, row: (Span & { shown: boolean }) | null): boolean {
  return row !== null && row.shown && row.bottom > view.top && row.top < view.bottom;
}

/** `rowInSight` for the message row of `seq` in the list's scroller, measured now. */
export function seqInSight(scroller: HTMLElement, seq: number): boolean {
  const el = scroller.querySelector<HTMLElement>(`[data-testid="message"][data-seq="${seq}"]`);
  if (!el) return false;
  const { top, bottom } = el.getBoundingClientRect();
  return rowInSight(scroller.getBoundingClientRect(), { top, bottom, shown: getComputedStyle(el).visibility === 'visible' });
}

export interface Range {
  startIndex: number;
  endIndex: number;
}

/**
 * Which pages to load for the rendered `range` of a list whose first item has index
 * `firstIndex` and which holds `count` items: older ones when it reaches the first, newer ones
 * when it reaches the last of a window that stops short of the newest messages. None while the
 * list is still opening.
 */
export function edgePages(range: Range | null, firstIndex: number, count: number, { opening, detached }: { opening: boolean; detached: boolean }) {
  if (opening || !range || count === 0) return { older: false, newer: false };
  return { older: range.startIndex <= firstIndex, newer: detached && range.endIndex >= firstIndex + count - 1 };
}
