// The chats tab while searching: conversations whose name matches, people whose name starts
// with the search, then messages that match.
import { useMutedIds } from '../../api/mutes';
import { useAppSelector } from '../../app/hooks';
import { ConversationRow, useMatchingConversations } from '../ConversationList';
import { MessageSearchResults } from './MessageSearchResults';
import { PeopleFound } from './PeopleFound';

export function SearchPanel({ query, activeId }: { query: string; activeId: string | null }) {
  const chats = useMatchingConversations(query);
  const myId = useAppSelector((s) => s.session.user?.id ?? null);
  const muted = useMutedIds();
  return (
    <div className="scrollbar-thin h-full overflow-y-auto pb-3">
      {chats.length > 0 && (
        <section aria-label="Chats found">
          <h3 className="px-5 pt-3 pb-1 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">Chats</h3>
          {chats.map((c) => (
            <ConversationRow key={c.id} conversation={c} active={c.id === activeId} myId={myId} typing={null} muted={muted.has(c.id)} />
          ))}
        </section>
      )}
      <PeopleFound query={query} />
      <MessageSearchResults query={query} />
    </div>
  );
}
