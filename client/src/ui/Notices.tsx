// Short messages at the bottom of the screen (a refused edit, an action while offline); each
// goes away by itself after a few seconds.
import { useEffect } from 'react';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { noticeDismissed, type Notice } from '../features/notices/noticesSlice';

const SHOW_MS = 6_000;

function NoticeItem({ notice }: { notice: Notice }) {
  const dispatch = useAppDispatch();
  useEffect(() => {
    const t = setTimeout(() => dispatch(noticeDismissed(notice.id)), SHOW_MS);
    return () => clearTimeout(t);
  }, [dispatch, notice.id]);
  return (
    <li className="pointer-events-auto flex items-center gap-3 rounded-xl bg-slate-900 px-4 py-2.5 text-sm text-white shadow-lg dark:bg-slate-100 dark:text-slate-900">
      <span className="min-w-0 flex-1">{notice.text}</span>
      <button
        type="button"
        onClick={() => dispatch(noticeDismissed(notice.id))}
        className="shrink-0 font-semibold text-accent-300 hover:underline dark:text-accent-700"
      >
        OK
      </button>
    </li>
  );
}

export function Notices() {
  const items = useAppSelector((s) => s.notices.items);
  return (
    <ul
      role="status"
      aria-live="polite"
      data-testid="notices"
      className="pointer-events-none fixed inset-x-0 bottom-20 z-40 mx-auto flex w-[min(28rem,calc(100%-1.5rem))] flex-col gap-2"
    >
      {items.map((n) => (
        <NoticeItem key={n.id} notice={n} />
      ))}
    </ul>
  );
}
