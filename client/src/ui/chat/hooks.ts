// Small behaviours of the message list, each on its own.
import { useEffect, useRef, useState } from 'react';

export function useDocumentVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const on = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, []);
  return visible;
}

/**
 * Keeps the list pinned to the bottom when its box changes height (the composer grows, a phone
 * keyboard opens, a banner appears) or the last row grows (a reaction): "at bottom" as of the
 * last scroll. Virtuoso's followOutput covers new rows only. A list that opens at a message
 * (`startPinned` false) stays where it is until the user scrolls to the bottom; one whose end
 * is not the newest message (`scroller` null) is never pinned.
 */
export function usePinnedToBottom(scroller: HTMLElement | null, startPinned: boolean): void {
  const start = useRef(startPinned);
  start.current = startPinned;
  useEffect(() => {
    if (!scroller) return;
    const gap = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    // Only the value as of when this list appeared counts: the focus it opened at is soon cleared.
    let pinned = start.current && gap() < 80;
    let frame = 0;
    const onScroll = () => {
      pinned = gap() < 80;
    };
    const ro = new ResizeObserver(() => {
      if (!pinned) return;
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (gap() > 1) scroller.scrollTop = scroller.scrollHeight;
      });
    });
    scroller.addEventListener('scroll', onScroll, { passive: true });
    ro.observe(scroller);
    const content = scroller.firstElementChild;
    if (content) ro.observe(content);
    return () => {
      cancelAnimationFrame(frame);
      scroller.removeEventListener('scroll', onScroll);
      ro.disconnect();
    };
  }, [scroller]);
}

/** A value that turns back to null `ms` after it was last set. */
export function useFlash<T>(ms: number): [T | null, (v: T) => void] {
  const [value, setValue] = useState<{ v: T; n: number } | null>(null);
  useEffect(() => {
    if (!value) return;
    const t = setTimeout(() => setValue(null), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return [value?.v ?? null, (v: T) => setValue((old) => ({ v, n: (old?.n ?? 0) + 1 }))];
}
