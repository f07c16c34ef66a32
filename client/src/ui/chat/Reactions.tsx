// Reactions under a message: one chip per emoji with its count; hover or focus tells who; a
// click puts or takes back my own.
import { memo } from 'react';
import type { ConversationId, Reaction, UserId } from '../../api/types';
import { useAppDispatch } from '../../app/hooks';
import { namesList } from '../../features/chat/conversation';
import { mayReact } from '../../features/chat/reactions';
import { reactRequested } from '../../sockets/actions';


export function whoReacted(r: Reaction, names: Record<UserId, string>, myId: UserId | null): string[] {
  return r.userIds.map((id) => (id === myId ? 'you' : (names[id] ?? 'someone')));
}

export const Reactions = memo(function Reactions({
  conversationId,
  seq,
  reactions,
  names,
  myId,
  mine,
}: {
  conversationId: ConversationId;
  seq: number;
  reactions: Reaction[];
  names: Record<UserId, string>;
  myId: UserId | null;
  /** Under one of my messages (aligned right). */
  mine: boolean;
}) {
  const dispatch = useAppDispatch();
  if (reactions.length === 0) return null;
  return (
    <ul aria-label="Reactions" className={`flex flex-wrap gap-1 pt-1 ${mine ? 'justify-end' : 'justify-start'}`}>
      {reactions.map((r) => {
        const on = myId !== null && r.userIds.includes(myId);
        // Joining one the server would refuse (I added as many as it takes) is not offered.
        const closed = !on && !mayReact(reactions, myId, r.emoji);
        const who = namesList(whoReacted(r, names, myId), 10);
        return (
          <li key={r.emoji}>
            <button
              type="button"
              aria-pressed={on}
              disabled={closed}
              aria-label={`${r.emoji} ${r.userIds.length}: ${who}`}
              title={who}
              data-testid="reaction"
              data-emoji={r.emoji}
              onClick={() => dispatch(reactRequested({ conversationId, seq, emoji: r.emoji, on: !on }))}
              className={`inline-flex h-7 items-center gap-1 rounded-full px-2 text-sm shadow-sm ring-1 transition ${
                on
                  ? 'bg-accent-100 ring-accent-400 dark:bg-accent-700/40 dark:ring-accent-400'
                  : 'bg-white ring-slate-200 hover:bg-slate-50 disabled:cursor-default disabled:hover:bg-white dark:bg-slate-800 dark:ring-slate-700 dark:hover:bg-slate-700 dark:disabled:hover:bg-slate-800'
              }`}
            >
              <span aria-hidden="true">{r.emoji}</span>
              <span aria-hidden="true" className="text-xs font-semibold text-slate-700 tabular-nums dark:text-slate-200">
                {r.userIds.length}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
});
