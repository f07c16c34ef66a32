// The names a conversation's messages may mention (its members), for the message text to show
// mentions and the composer to complete them; and which name is mine, to stand out.
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import type { Conversation } from '../../api/types';
import { useAppSelector } from '../../app/hooks';
import { usernameLookup } from '../../lib/mentions';

type Mentionable = {
  /** The username as written, for a name in any case; undefined for someone not in the conversation. */
  lookup: (name: string) => string | undefined;
  /** My username. */
  me: string;
};

const MentionsContext = createContext<Mentionable>({ lookup: () => undefined, me: '' });

/** The members' usernames, mine included: a group's (a direct conversation has no mentions, as the server counts none there). */
function usernamesOf(conversation: Conversation | undefined): string[] {
  return conversation?.kind === 'group' ? conversation.members.map((m) => m.username) : [];
}

export function MentionsProvider({ conversation, children }: { conversation: Conversation | undefined; children: ReactNode }) {
  const me = useAppSelector((s) => s.session.user?.username ?? '');
  // Keyed by the names, not the conversation: it changes with every message, the names seldom.
  const key = usernamesOf(conversation).join('\n');
  const value = useMemo(() => ({ lookup: usernameLookup(key.split('\n')), me }), [key, me]);
  return <MentionsContext.Provider value={value}>{children}</MentionsContext.Provider>;
}

export function useMentionable(): Mentionable {
  return useContext(MentionsContext);
}

/** Whom I may mention in `conversation`: the other members of a group (a direct chat has no one to point out). */
export function mentionableOthers(conversation: Conversation | undefined, me: string): string[] {
  return conversation?.kind === 'group' ? conversation.members.map((m) => m.username).filter((u) => u !== me) : [];
}
