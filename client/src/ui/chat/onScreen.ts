// What the reader actually sees of the message list. Virtuoso renders rows beyond the scroller's
// edges too (increaseViewportBy), and its rangeChanged counts them: a read receipt taken from it
// would report messages still out of sight below the visible area.

export interface Span {
  top: number;
  bottom: number;
}

/**
 * The highest seq of the rows whose middle is inside `view`, or 0: a row at least half in sight
 * counts (a tall one once the reader reached its middle), one barely peeking in does not.
 */
export function lastSeqOnScreen(view: Span, rows: Iterable<Span & { seq: number }>): number {
  let last = 0;
  for (const row of rows) {
    const middle = (row.top + row.bottom) / 2;
    if (middle >= view.top && middle <= view.bottom && row.seq > last) last = row.seq;
  }
  return last;
}

/** `lastSeqOnScreen` of the message rows rendered in the list's scroller, measured now. */
export function lastSeqInScroller(scroller: HTMLElement): number {
  const rows = Array.from(scroller.querySelectorAll<HTMLElement>('[data-testid="message"][data-seq]'), (el) => {
    const { top, bottom } = el.getBoundingClientRect();
    return { top, bottom, seq: Number(el.dataset.seq) };
  });
  return lastSeqOnScreen(scroller.getBoundingClientRect(), rows);
}
