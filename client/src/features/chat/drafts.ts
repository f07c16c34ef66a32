// Unsent text per (user, conversation), kept while switching chats and across reloads. Kept in
// the tab's sessionStorage: closing the tab ends it, so nothing stays behind on a shared
// computer. Forgotten once sent, and when the session ends (see store.ts). Kept in memory too,
// so a browser that refuses the storage (full, or turned off) still keeps drafts while the page
// lives.
import { MAX_BODY_CHARS } from '../../api/generated/limits';
import type { ConversationId, UserId } from '../../api/types';

export type DraftStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const STORAGE_KEY = 'gochat.drafts';
/** How many drafts are kept: the ones written last. */
export const MAX_DRAFTS = 20;

export interface Drafts {
  get(user: UserId, conversation: ConversationId): string;
  /** An empty text forgets the draft. */
  set(user: UserId, conversation: ConversationId, text: string): void;
  clear(): void;
}

/** A stored draft stops at the longest message: more could not be sent anyway. */
function bounded(text: string): string {
  return text.length <= MAX_BODY_CHARS ? text : [...text].slice(0, MAX_BODY_CHARS).join('');
}

/** The stored [key, text] pairs, oldest first; none if the storage holds something else. */
function load(storage: DraftStorage | null): Map<string, string> {
  try {
    const entries: unknown = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '[]');
    if (Array.isArray(entries)) {
      return new Map(entries.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string'));
    }
  } catch {
    // Refused or damaged: start with none.
  }
  return new Map();
}

export function makeDrafts(storage: DraftStorage | null): Drafts {
  let drafts: Map<string, string> | null = null;
  const all = () => (drafts ??= load(storage));
  const save = () => {
    try {
      storage?.setItem(STORAGE_KEY, JSON.stringify([...all()].map(([key, text]) => [key, bounded(text)])));
    } catch {
      // Full or refused: kept in memory only.
    }
  };
  return {
    get: (user, conversation) => all().get(`${user}:${conversation}`) ?? '',
    set(user, conversation, text) {
      const key = `${user}:${conversation}`;
      const map = all();
      if ((map.get(key) ?? '') === text) return;
      // Deleted first, so that it goes last: the order is that of the last writes.
      map.delete(key);
      if (text) map.set(key, text);
      for (const oldest of map.keys()) {
        if (map.size <= MAX_DRAFTS) break;
        map.delete(oldest);
      }
      save();
    },
    clear() {
      drafts = new Map();
      try {
        storage?.removeItem(STORAGE_KEY);
      } catch {
        // Refused: nothing was stored either.
      }
    },
  };
}

function tabStorage(): DraftStorage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null; // Reading it throws where storage is turned off.
  }
}

/** This tab's drafts. */
export const drafts = makeDrafts(tabStorage());
