// A modal dialog on the native <dialog>: the browser traps focus, closes it on Escape and gives
// focus back to where it was. Mounted only while open.
import { useEffect, useId, useRef, type ReactNode } from 'react';

export function Dialog({
  title,
  onClose,
  children,
  wide = false,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={onClose}
      onClick={(e) => {
        if (e.target === ref.current) ref.current.close(); // a click on the backdrop
      }}
      className={`m-auto w-[calc(100%-1.5rem)] ${wide ? 'max-w-md' : 'max-w-sm'} rounded-2xl bg-white p-0 text-slate-900 shadow-2xl backdrop:bg-slate-950/50 dark:bg-slate-900 dark:text-slate-100`}
    >
      <div className="flex max-h-[85dvh] flex-col">
        <h2 id={titleId} className="px-5 pt-4 pb-2 text-lg font-semibold">
          {title}
        </h2>
        {children}
      </div>
    </dialog>
  );
}

/** A question with a cancel button and one action (for things that cannot be undone). */
export function ConfirmDialog({
  title,
  text,
  action,
  onConfirm,
  onClose,
}: {
  title: string;
  text: string;
  action: string;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog title={title} onClose={onClose}>
      <p className="px-5 pb-4 text-sm text-slate-600 dark:text-slate-300">{text}</p>
      <div className="flex justify-end gap-2 px-5 pb-4">
        <button type="button" autoFocus onClick={onClose} className={buttonClass('plain')}>
          Cancel
        </button>
        <button
          type="button"
          onClick={() => {
            onConfirm();
            onClose();
          }}
          className={buttonClass('danger')}
        >
          {action}
        </button>
      </div>
    </Dialog>
  );
}

/** primary and danger: filled; plain, accent and dangerText: text only. */
export function buttonClass(kind: 'primary' | 'plain' | 'danger' | 'accent' | 'dangerText'): string {
  const base = 'inline-flex items-center justify-center gap-2 rounded-lg px-4 py-2 text-sm font-semibold disabled:cursor-not-allowed';
  const quiet = 'hover:bg-slate-100 dark:hover:bg-slate-800';
  if (kind === 'primary') return `${base} bg-accent-600 text-white hover:bg-accent-700 disabled:bg-slate-300 dark:disabled:bg-slate-700`;
  if (kind === 'danger') return `${base} bg-rose-600 text-white hover:bg-rose-700`;
  if (kind === 'accent') return `${base} ${quiet} text-accent-600 dark:text-accent-400`;
  if (kind === 'dangerText') return `${base} ${quiet} text-rose-600 dark:text-rose-400`;
  return `${base} ${quiet} text-slate-700 dark:text-slate-200`;
}
