// The one-time code a link carries (an invitation's, a password reset's). The page it opens
// reads the code once and at once rewrites the tab's history entry without it: the code is then
// no longer in the address bar, nor in a bookmark, a synced tab, a screen shared later or the
// tab's back and forward list, and the page keeps it in memory only. (The browser's global
// history may still have recorded the visit as opened; only using the code ends it.) A reload
// finds no code: the page says to open the link again.
import { useEffect, useState } from 'react';

/** Where a kind of link carries its code. */
export interface CodeSpot {
  /** The code `url` carries, if it holds a plausible one. */
  read(url: URL): string | null;
  /** Takes the code (plausible or not) out of `url`. */
  remove(url: URL): void;
}

/** The address (path, query, fragment) to show instead of `href`, or null when it carries no code. */
export function addressWithoutCode(spot: CodeSpot, href: string): string | null {
  const url = new URL(href);
  const before = url.href;
  spot.remove(url);
  if (url.href === before) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * The code of the link this page was opened with. Read during the first render (a pure read, so
 * React may repeat it); the address loses it once the page is on screen. `spot` must be a
 * module-level constant.
 */
export function useCodeFromAddress(spot: CodeSpot): string | null {
  const [code, setCode] = useState(() => spot.read(new URL(location.href)));
  useEffect(() => {
    function take() {
      const found = spot.read(new URL(location.href));
      if (found !== null) setCode(found);
      const bare = addressWithoutCode(spot, location.href);
      // replaceState: no new history entry, no navigation, nothing sent to the server.
      if (bare !== null) history.replaceState(history.state, '', bare);
    }
    take();
    // The link opened again in this tab, on this page, changes only the fragment: no new page.
    window.addEventListener('hashchange', take);
    return () => window.removeEventListener('hashchange', take);
  }, [spot]);
  return code;
}
