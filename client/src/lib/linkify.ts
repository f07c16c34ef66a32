// Finds web links in message text: http(s) URLs, and bare "www." addresses (as https). Only
// http(s) links are ever made; everything is rendered by React as text, so markup in a message
// is never interpreted. The message parser (markdown.ts) asks at each position whether a link
// starts there, so that code spans are found first and a URL's "_" or "*" never formats text.

/** What looks like a link, and where it goes: null when it may not be one (then no link starts inside it either). */
export interface Candidate {
  /** As written in the message. */
  text: string;
  href: string | null;
}

/**
 * The scheme or "www.", the host, and from a "/", "?" or "#" on the rest up to a space. The host
 * ends at non-ASCII punctuation and symbols, so that "www.example.com。次に" or
 * "www.paypal.com。attacker。com" (the URL parser reads "。" as a dot) link only what they show.
 * The host's ASCII characters are listed (printable, but not space, <>"'/?#\): a negated class
 * with a non-ASCII range would, case-insensitively, also leave out "s" and "k" ("ſ", "K").
 */
const LINK_RE = /(?:https?:\/\/|www\.)(?:[\x21\x24-\x26\x28-\x2E\x30-\x3B\x3D\x40-\x5B\x5D-\x7E]|[^\s\p{P}\p{S}\p{C}\0-\x7F])+(?:[/?#\\][^\s<>"']*)?/iuy;
/** Longer is no link anyone writes by hand, and would only cost time. */
const MAX_URL = 2048;
/** Punctuation that usually ends a sentence rather than a URL. */
const TRAILING = '.,;:!?)]}\'"';
/** What may not come just before a bare "www." address: it would be part of a word, an email address or a longer host name. */
const NOT_BEFORE_WWW = /[\p{L}\p{N}@.:/-]/u;
/** Before "http(s)://" only an ASCII letter: "xhttps://…" is another scheme, but "请看https://…" or "Docs:https://…" are links. */
const NOT_BEFORE_HTTP = /[a-z]/i;

/**
 * Drops sentence punctuation after a URL, but keeps a ")" that closes a "(" inside it
 * ("…/Foo_(bar)"), and formatting markers ("__init__", "path_") unless one of them closes a
 * format opened before the link ("_see www.example.com_").
 */
function trimUrl(raw: string, closesFormat: (marker: string) => boolean): string {
  // Counted once, then kept up to date while trimming: recounting for each ")" took quadratic time.
  let opens = 0;
  let closes = 0;
  for (const c of raw) {
    if (c === '(') opens++;
    else if (c === ')') closes++;
  }
  let end = raw.length;
  for (; end > 0; end--) {
    const c = raw[end - 1]!;
    if (c === ')') {
      if (opens >= closes) break;
      closes--;
    } else if (!TRAILING.includes(c) && !('*_~'.includes(c) && closesFormat(c))) {
      break;
    }
  }
  return raw.slice(0, end);
}

function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate);
    // "www.google.com@evil.com" goes to evil.com: a link must go where its text says.
    if (url.username || url.password) return null;
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * What looks like a link at `at` in `text`, if anything does (nothing inside a word or an
 * address: "bob@www.x.org"). `closesFormat` tells whether a marker after it closes a format.
 */
export function linkAt(text: string, at: number, closesFormat: (marker: string) => boolean = () => false): Candidate | null {
  const notBefore = 'wW'.includes(text[at]!) ? NOT_BEFORE_WWW : NOT_BEFORE_HTTP;
  if (at > 0 && notBefore.test(text[at - 1]!)) return null;
  LINK_RE.lastIndex = at;
  const match = LINK_RE.exec(text);
  if (!match) return null;
  const raw = trimUrl(match[0], closesFormat);
  if (raw.length > MAX_URL) return { text: raw, href: null };
  const bare = /^www\./i.test(raw);
  const href = safeHref(bare ? `https://${raw}` : raw);
  // "www." alone, or "www.example", is no address.
  if (href && bare && !new URL(href).hostname.slice(4).includes('.')) return { text: raw, href: null };
  return { text: raw, href };
}
