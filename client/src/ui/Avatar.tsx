// A round avatar with the user's initials (or a group's) on a color of their own, and an online dot.
import { UsersIcon } from './icons';

const COLORS = [
  'bg-rose-500',
  'bg-orange-500',
  'bg-amber-500',
  'bg-emerald-500',
  'bg-teal-500',
  'bg-sky-500',
  'bg-indigo-500',
  'bg-violet-500',
  'bg-fuchsia-500',
];

function colorFor(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return COLORS[h % COLORS.length]!;
}

function initials(name: string): string {
  const parts = name.split(/[\s._-]+/).filter(Boolean);
  const first = parts[0]?.[0] ?? name[0] ?? '?';
  const second = parts.length > 1 ? (parts[1]?.[0] ?? '') : (name[1] ?? '');
  return (first + second).toUpperCase();
}

export function Avatar({
  id,
  name,
  online,
  size = 'md',
  group = false,
}: {
  id: string;
  name: string;
  online?: boolean;
  size?: 'xs' | 'sm' | 'md' | 'lg';
  /** A group: its initials with a small people badge. */
  group?: boolean;
}) {
  const box =
    size === 'xs' ? 'h-7 w-7 text-xs' : size === 'sm' ? 'h-9 w-9 text-sm' : size === 'lg' ? 'h-12 w-12 text-lg' : 'h-11 w-11 text-base';
  return (
    <span className="relative inline-flex shrink-0" aria-hidden="true">
      <span className={`${box} ${colorFor(id)} inline-flex items-center justify-center rounded-full font-semibold text-white select-none`}>
        {initials(name)}
      </span>
      {group && (
        <span className="absolute -right-0.5 -bottom-0.5 inline-flex h-4.5 w-4.5 items-center justify-center rounded-full bg-white text-[11px] text-slate-600 ring-2 ring-white dark:bg-slate-900 dark:text-slate-300 dark:ring-slate-900">
          <UsersIcon />
        </span>
      )}
      {online && (
        <span className="absolute right-0 bottom-0 h-3 w-3 rounded-full bg-emerald-500 ring-2 ring-white dark:ring-slate-900" />
      )}
    </span>
  );
}
