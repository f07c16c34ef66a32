// What happened to a group, in its timeline: "Ann added Ben", "You renamed the group to “Trio”",
// "Ben is now the owner".
import type { TimelineEvent, UserId } from '../../api/types';
import { eventText } from '../../features/chat/groupEvents';

export function GroupEventNotes({ events, names, myId }: { events: readonly TimelineEvent[]; names: Record<UserId, string>; myId: UserId | null }) {
  if (events.length === 0) return null;
  const nameOf = (id: UserId) => names[id] ?? 'Someone';
  return (
    <div className="flex flex-col items-center gap-1 py-1.5">
      {events.map((e) => (
        <p
          key={e.num}
          data-testid="group-event"
          data-kind={e.kind}
          className="max-w-[85%] rounded-full bg-slate-200/70 px-3 py-0.5 text-center text-xs text-slate-600 dark:bg-slate-800/70 dark:text-slate-300"
        >
          {eventText(e, nameOf, myId)}
        </p>
      ))}
    </div>
  );
}
