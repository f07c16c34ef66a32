// Small behaviours of the message list, each on its own.
import type React from 'react';
import { useEffect, useRef, useState } from 'react';
import { lastSeqInScroller } from './onScreen';
import { OPENING_MAX_MS, seqInSight } from './opening';

export function useDocumentVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const on = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, []);
  return visible;
}

/** Keys that scroll a list up, and how long after one (or a wheel, touch or scroll bar drag) a scroll counts as the reader's. */
const UP_KEYS = new Set(['ArrowUp', 'PageUp', 'Home']);
const INTENT_MS = 1000;

/**
 * Keeps the list pinned to the bottom when its box changes height (the composer grows, a phone
 * keyboard opens, a banner appears) or the last row grows (a reaction): "at bottom" as of the
 * last scroll up. Virtuoso's followOutput covers new rows only. A list that opens at a message
 * (`startPinned` false) stays where it is until the user scrolls to the bottom; one whose end
 * is not the newest message (`scroller` null) is never pinned. Returns whether it is pinned now,
 * for following new rows too.
 */
export function usePinnedToBottom(scroller: HTMLElement | null, startPinned: boolean): React.RefObject<boolean> {
  const start = useRef(startPinned);
  start.current = startPinned;
  const pinnedRef = useRef(false);
  useEffect(() => {
    pinnedRef.current = false;
    if (!scroller) return;
    const gap = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    // Only the value as of when this list appeared counts: the focus it opened at is soon cleared.
    let pinned = start.current && gap() < 80;
    pinnedRef.current = pinned;
    // Only the reader scrolling up unpins: rows arriving below, a glide down that has not reached
    // the end yet, or the list correcting its scroll position as it measures rows also leave a
    // gap, and must not, or in a burst the list would stop following with the newest out of sight.
    let lastTop = scroller.scrollTop;
    let upAt = -Infinity;
    const readerScrollsUp = () => {
      upAt = performance.now();
    };
    const onWheel = (e: WheelEvent) => {
      if (e.deltaY < 0) readerScrollsUp();
    };
    const onKey = (e: KeyboardEvent) => {
      if (UP_KEYS.has(e.key) || (e.key === ' ' && e.shiftKey)) readerScrollsUp();
    };
    // The scroll bar belongs to the scroller: a press on it (not on a row) is a drag of it.
    const onPointer = (e: PointerEvent) => {
      if (e.target === scroller) readerScrollsUp();
    };
    let frame = 0;
    const onScroll = () => {
      const top = scroller.scrollTop;
      if (gap() < 80) pinned = true;
      else if (top < lastTop && performance.now() - upAt < INTENT_MS) pinned = false;
      lastTop = top;
      pinnedRef.current = pinned;
    };
    const toBottom = () => {
      if (!pinned) return;
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (gap() > 1) scroller.scrollTop = scroller.scrollHeight;
        lastTop = scroller.scrollTop;
      });
    };
    // A glide that ended short of the end (rows grew while it ran) is finished by a jump.
    const ro = new ResizeObserver(toBottom);
    scroller.addEventListener('scrollend', toBottom);
    scroller.addEventListener('scroll', onScroll, { passive: true });
    scroller.addEventListener('wheel', onWheel, { passive: true });
    scroller.addEventListener('touchmove', readerScrollsUp, { passive: true });
    scroller.addEventListener('pointerdown', onPointer);
    scroller.addEventListener('keydown', onKey);
    ro.observe(scroller);
    const content = scroller.firstElementChild;
    if (content) ro.observe(content);
    return () => {
      cancelAnimationFrame(frame);
      scroller.removeEventListener('scroll', onScroll);
      scroller.removeEventListener('scrollend', toBottom);
      scroller.removeEventListener('wheel', onWheel);
      scroller.removeEventListener('touchmove', readerScrollsUp);
      scroller.removeEventListener('pointerdown', onPointer);
      scroller.removeEventListener('keydown', onKey);
      ro.disconnect();
    };
  }, [scroller]);
  return pinnedRef;
}

/**
 * The seq of the last message row the reader sees in `scroller` (0 for none), measured after
 * each scroll, each time the rendered `range` or the `items` change, and when the list or its
 * rows change size without a scroll (a taller window, the info panel closing, a picture loaded).
 */
export function useLastSeqOnScreen(scroller: HTMLElement | null, range: unknown, items: unknown): number {
  const [seq, setSeq] = useState(0);
  const measure = useRef<() => void>(() => {});
  useEffect(() => {
    if (!scroller) return;
    let frame = 0;
    // After the browser laid the rows out, once per frame however many events came.
    measure.current = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => setSeq(lastSeqInScroller(scroller)));
    };
    const onEvent = () => measure.current();
    const resized = new ResizeObserver(onEvent);
    resized.observe(scroller);
    if (scroller.firstElementChild) resized.observe(scroller.firstElementChild);
    scroller.addEventListener('scroll', onEvent, { passive: true });
    onEvent();
    return () => {
      cancelAnimationFrame(frame);
      resized.disconnect();
      scroller.removeEventListener('scroll', onEvent);
    };
  }, [scroller]);
  // New rows or a new rendered range: measured again, without listening anew.
  useEffect(() => measure.current(), [range, items]);
  return seq;
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

/**
 * Whether the list of window `epoch`, opened at the message `seq` (null: opened at the end), is
 * still opening: until that message is in sight (see opening.ts), at most OPENING_MAX_MS.
 */
export function useOpening(scroller: HTMLElement | null, epoch: number, seq: number | null): boolean {
  const [openedEpoch, setOpenedEpoch] = useState<number | null>(null);
  const opening = seq !== null && openedEpoch !== epoch;
  useEffect(() => {
    if (!opening || !scroller || seq === null) return;
    const start = performance.now();
    let frame = requestAnimationFrame(function check() {
      if (seqInSight(scroller, seq) || performance.now() - start > OPENING_MAX_MS) setOpenedEpoch(epoch);
      else frame = requestAnimationFrame(check);
    });
    return () => cancelAnimationFrame(frame);
  }, [opening, scroller, seq, epoch]);
  return opening;
}
