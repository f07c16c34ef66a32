// Dates as a messenger shows them, in the browser's locale and time zone.

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const longDateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });

const DAY = 86_400_000;

function startOfDay(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

export function sameDay(a: string, b: string): boolean {
  return startOfDay(new Date(a)) === startOfDay(new Date(b));
}

/** "14:05" */
export function clockTime(iso: string): string {
  return timeFmt.format(new Date(iso));
}

/** For lists: time today, weekday this week, else a short date. */
export function listTime(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  const days = (startOfDay(new Date(now)) - startOfDay(d)) / DAY;
  if (days <= 0) return timeFmt.format(d);
  if (days < 7) return weekdayFmt.format(d);
  return shortDateFmt.format(d);
}

/** Separator between days in a chat: "Today", "Yesterday", "Monday 3 March", "3 March 2024". */
export function dayLabel(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  const days = Math.round((startOfDay(new Date(now)) - startOfDay(d)) / DAY);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (days < 365 && d.getFullYear() === new Date(now).getFullYear()) return dayFmt.format(d);
  return longDateFmt.format(d);
}

/** "last seen just now", "last seen 5 min ago", "last seen today at 14:05", ... */
export function lastSeen(iso: string | null, now = Date.now()): string {
  if (!iso) return 'offline';
  const d = new Date(iso);
  const diff = now - d.getTime();
  if (diff < 60_000) return 'last seen just now';
  if (diff < 3_600_000) return `last seen ${Math.floor(diff / 60_000)} min ago`;
  const days = Math.round((startOfDay(new Date(now)) - startOfDay(d)) / DAY);
  if (days === 0) return `last seen today at ${timeFmt.format(d)}`;
  if (days === 1) return `last seen yesterday at ${timeFmt.format(d)}`;
  if (days < 7) return `last seen ${weekdayFmt.format(d)} at ${timeFmt.format(d)}`;
  return `last seen ${shortDateFmt.format(d)}`;
}
