// `@username` mentions, by the rules the server applies (services/messages/src/store/mentions.rs;
// both test suites read mentions.cases.json): an "@" at the start of a text, or after a space,
// opening punctuation or a formatting marker (so ann@example.com and .../@ann name nobody),
// then the name's characters as usernames are made ([A-Za-z0-9_.-]); a name matches
// case-insensitively, and when the whole run names nobody, the run without its trailing dots,
// dashes and underscores is tried ("ask @ann." names ann). Code and links are never looked at: the message
// renderer only splits plain text (lib/markdown.ts).
import { parseMessage, type Inline } from './markdown';

const NAME_CHAR = /[A-Za-z0-9_.-]/;
/** What a mention may follow, besides the start of a text. */
const MENTION_AFTER = /[\s([{"'«¡¿—*_~]/;
/** Longest name a mention reads (usernames are at most 32 characters, one more for a full stop). */
const LONGEST = 33;
const MENTION = /@([A-Za-z0-9_.-]+)/g;

export type MentionPart = { text: string; username?: string };

/**
 * `text` cut into plain runs and mentions of the names `lookup` knows (it answers the username
 * as written for a name in any case, or undefined).
 */
export function splitMentions(text: string, lookup: (name: string) => string | undefined): MentionPart[] {
  const parts: MentionPart[] = [];
  let plainFrom = 0;
  for (const match of text.matchAll(MENTION)) {
    const at = match.index;
    const run = match[1]!;
    if ((at > 0 && !MENTION_AFTER.test(text[at - 1]!)) || run.length > LONGEST) continue;
    const trimmed = run.replace(/[._-]+$/, '');
    const name = lookup(run) !== undefined ? run : trimmed && lookup(trimmed) !== undefined ? trimmed : undefined;
    if (name === undefined) continue;
    if (at > plainFrom) parts.push({ text: text.slice(plainFrom, at) });
    parts.push({ text: `@${name}`, username: lookup(name)! });
    plainFrom = at + 1 + name.length;
  }
  if (plainFrom < text.length) parts.push({ text: text.slice(plainFrom) });
  return parts;
}

/** The mention being typed at `caret`: where its "@" is and the name so far ("" right after the "@"). */
export function mentionTypedAt(text: string, caret: number): { start: number; query: string } | null {
  let i = caret;
  while (i > 0 && NAME_CHAR.test(text[i - 1]!)) i--;
  const at = i - 1;
  if (at < 0 || text[at] !== '@' || (at > 0 && !MENTION_AFTER.test(text[at - 1]!))) return null;
  const query = text.slice(i, caret);
  return query.length > LONGEST ? null : { start: at, query };
}

/** The usernames to offer for `query`: those starting with it first, then those containing it, at most `limit`. */
export function mentionCandidates(usernames: string[], query: string, limit = 8): string[] {
  const q = query.toLowerCase();
  const starting = usernames.filter((u) => u.toLowerCase().startsWith(q));
  const containing = q ? usernames.filter((u) => !u.toLowerCase().startsWith(q) && u.toLowerCase().includes(q)) : [];
  return [...starting, ...containing].slice(0, limit);
}

/** `text` with the mention typed from `start` to `caret` completed as `@username `, and the caret after it. */
export function completeMention(text: string, start: number, caret: number, username: string): { text: string; caret: number } {
  const inserted = `@${username} `;
  const rest = text.slice(caret).replace(/^[A-Za-z0-9_.-]*/, '').replace(/^ /, '');
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

/** Finds a username among `usernames` whatever its case, as the server matches a mention. */
export function usernameLookup(usernames: readonly string[]): (name: string) => string | undefined {
  const names = new Map(usernames.map((u) => [u.toLowerCase(), u] as const));
  return (name) => names.get(name.toLowerCase());
}

/** The usernames `body` mentions as the message shows it (in its text, not in code or links), each once. */
export function mentionsIn(body: string, lookup: (name: string) => string | undefined): string[] {
  const found = new Set<string>();
  const walk = (nodes: Inline[]) => {
    for (const n of nodes) {
      if (n.kind === 'text') for (const part of splitMentions(n.text, lookup)) if (part.username) found.add(part.username);
      if ('children' in n) walk(n.children);
    }
  };
  for (const block of parseMessage(body)) if (block.kind !== 'codeBlock') walk(block.children);
  return [...found];
}
