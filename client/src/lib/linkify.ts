// Finds web links in message text: http(s) URLs, and bare "www." addresses (as https). Only
// http(s) links are ever made; everything is rendered by React as text, so markup in a message
// is never interpreted. The message parser (markdown.ts) asks at each position whether a link
// starts there, so that code spans are found first and a URL's "_" or "*" never formats text.

export interface Link {
  /** As written in the message. */
  text: string;
  href: string;
}

const LINK_RE = /https?:\/\/[^\s<>"']+|www\.[^\s<>"']+/iy;
/** Punctuation (and formatting markers) that usually end a sentence or a format rather than a URL. */
const TRAILING = '.,;:!?)]}\'"*_~';
/** What may not come just before a link: it would be part of a word, an address or a longer host name. */
const NOT_BEFORE = /[\p{L}\p{N}@.:\/-]/u;

/** Drops sentence punctuation after a URL, but keeps a ")" that closes a "(" inside it ("…/Foo_(bar)"). */
function trimUrl(raw: string): string {
  let end = raw.length;
  while (end > 0 && TRAILING.includes(raw[end - 1]!)) {
    if (raw[end - 1] === ')') {
      const body = raw.slice(0, end);
      const opens = body.split('(').length - 1;
      const closes = body.split(')').length - 1;
      if (opens >= closes) break;
    }
    end--;
  }
  return raw.slice(0, end);
}

export function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** The link that starts at `at` in `text`, if one does (none inside a word or an address: "bob@www.x.org"). */
export function linkAt(text: string, at: number): Link | null {
  if (at > 0 && NOT_BEFORE.test(text[at - 1]!)) return null;
  LINK_RE.lastIndex = at;
  const match = LINK_RE.exec(text);
  if (!match) return null;
  const raw = trimUrl(match[0]);
  const bare = /^www\./i.test(raw);
  const href = safeHref(bare ? `https://${raw}` : raw);
  // "www." alone, or "www.example", is no address.
  if (!href || (bare && !new URL(href).hostname.slice(4).includes('.'))) return null;
  return { text: raw, href };
}
