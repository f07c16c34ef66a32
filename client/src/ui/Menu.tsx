// A menu button as people expect one: Enter, Space or a click opens it with the first item
// focused; arrows move, Home/End jump, Escape closes it and returns to the button; a click
// outside, Tab or scrolling closes it. The menu floats above everything (a portal), so a
// scrolling list never clips it.
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { createPortal } from 'react-dom';

export interface MenuItem {
  /** The item's accessible name (and its text, unless `content` is given). */
  label: string;
  content?: ReactNode;
  onSelect: () => void;
  danger?: boolean;
  /** The menu stays open (the item changes what it shows). */
  keepOpen?: boolean;
}

/** Moves focus between the `[role^=menuitem]` elements of a menu with the keyboard. */
export function menuKeys(e: KeyboardEvent<HTMLElement>, close: () => void): void {
  const items = [...e.currentTarget.querySelectorAll<HTMLElement>('[role^="menuitem"]:not([disabled])')];
  const at = items.indexOf(document.activeElement as HTMLElement);
  let to: number | null = null;
  if (e.key === 'ArrowDown' || e.key === 'ArrowRight') to = (at + 1) % items.length;
  else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') to = (at - 1 + items.length) % items.length;
  else if (e.key === 'Home') to = 0;
  else if (e.key === 'End') to = items.length - 1;
  else if (e.key === 'Escape' || e.key === 'Tab') {
    if (e.key === 'Escape') e.preventDefault();
    close();
    return;
  }
  const item = to === null ? undefined : items[to];
  if (item) {
    e.preventDefault();
    item.focus();
  }
}

/** A box placed next to `anchor` (below it, or above when there is no room), in a portal. */
export function Popover({
  anchor,
  align,
  onClose,
  children,
}: {
  anchor: HTMLElement;
  align: 'start' | 'end';
  onClose: () => void;
  children: ReactNode;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState<{ top: number; left: number } | null>(null);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const a = anchor.getBoundingClientRect();
    const w = el.offsetWidth;
    const h = el.offsetHeight;
    const room = window.innerHeight - a.bottom;
    const top = room >= h + 8 || a.top < h + 8 ? a.bottom + 4 : a.top - h - 4;
    let left = align === 'end' ? a.right - w : a.left;
    left = Math.max(8, Math.min(left, window.innerWidth - w - 8));
    setPos({ top: Math.max(8, top), left });
  }, [anchor, align, children]);

  useEffect(() => {
    const onDown = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!box.current?.contains(t) && !anchor.contains(t)) onClose();
    };
    const onScroll = (e: Event) => {
      if (!box.current?.contains(e.target as Node)) onClose();
    };
    document.addEventListener('pointerdown', onDown);
    window.addEventListener('scroll', onScroll, true);
    window.addEventListener('resize', onClose);
    return () => {
      document.removeEventListener('pointerdown', onDown);
      window.removeEventListener('scroll', onScroll, true);
      window.removeEventListener('resize', onClose);
    };
  }, [anchor, onClose]);

  return createPortal(
    <div
      ref={box}
      // Transparent (not hidden) until placed: its first item can take focus at once.
      style={{ top: pos?.top ?? 0, left: pos?.left ?? 0, opacity: pos ? 1 : 0 }}
      className="fixed z-50 rounded-xl border border-slate-200 bg-white py-1 text-slate-900 shadow-xl dark:border-slate-700 dark:bg-slate-800 dark:text-slate-100"
    >
      {children}
    </div>,
    document.body,
  );
}

export const menuItemClass = (danger = false) =>
  `flex w-full items-center gap-3 px-4 py-2 text-left text-sm outline-none hover:bg-slate-100 focus:bg-slate-100 dark:hover:bg-slate-700 dark:focus:bg-slate-700 ${
    danger ? 'text-rose-600 dark:text-rose-400' : ''
  }`;

/** The items of an open menu, in a column or a row; focuses the first one on mount. */
export function MenuList({
  label,
  items,
  close,
  row = false,
}: {
  label: string;
  items: MenuItem[];
  close: () => void;
  row?: boolean;
}) {
  const list = useRef<HTMLDivElement>(null);
  useEffect(() => {
    list.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus({ preventScroll: true });
  }, []);
  return (
    <div
      ref={list}
      role="menu"
      aria-label={label}
      aria-orientation={row ? 'horizontal' : 'vertical'}
      className={row ? 'flex px-1' : 'min-w-44'}
      onKeyDown={(e) => menuKeys(e, close)}
    >
      {items.map((item) => (
        <button
          key={item.label}
          type="button"
          role="menuitem"
          tabIndex={-1}
          aria-label={item.content ? item.label : undefined}
          title={item.content ? item.label : undefined}
          className={row ? 'inline-flex h-10 w-10 items-center justify-center rounded-full text-xl outline-none hover:bg-slate-100 focus:bg-slate-100 dark:hover:bg-slate-700 dark:focus:bg-slate-700' : menuItemClass(item.danger)}
          onClick={() => {
            if (!item.keepOpen) close();
            item.onSelect();
          }}
        >
          {item.content ?? item.label}
        </button>
      ))}
    </div>
  );
}

/** Open/close state of a menu anchored to a button; closing returns focus to the button. */
export function useMenu<T extends HTMLElement = HTMLButtonElement>() {
  const button = useRef<T>(null);
  const [open, setOpen] = useState(false);
  const close = useCallback(() => {
    setOpen(false);
    button.current?.focus({ preventScroll: true });
  }, []);
  const dismiss = useCallback(() => setOpen(false), []);
  return { button, open, setOpen, close, dismiss };
}

/** A button (showing `children`, named `label`) that opens a menu of `items`. */
export function MenuButton({
  label,
  items,
  align = 'end',
  className,
  children,
}: {
  label: string;
  items: MenuItem[];
  align?: 'start' | 'end';
  className: string;
  children: ReactNode;
}) {
  const { button, open, setOpen, close, dismiss } = useMenu();
  return (
    <>
      <button
        ref={button}
        type="button"
        aria-label={label}
        title={label}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((v) => !v)}
        className={className}
      >
        {children}
      </button>
      {open && button.current && (
        <Popover anchor={button.current} align={align} onClose={dismiss}>
          <MenuList label={label} items={items} close={close} />
        </Popover>
      )}
    </>
  );
}
