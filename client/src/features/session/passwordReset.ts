// Password reset links: what the admin copies, and what the reset page reads back. The code
// rides in the URL's fragment, which browsers never send to a server (no access log or
// `Referer` ever holds it).
import { MAX_RESET_CODE_CHARS } from '../../api/generated/limits';
import type { CodeSpot } from '../../lib/codeInAddress';

export const RESET_PATH = '/reset-password';

/** The link the person opens: the page that sets a new password with this code. */
export function resetLink(origin: string, code: string): string {
  return `${origin}${RESET_PATH}#${encodeURIComponent(code)}`;
}

/** The code of a `#<code>` fragment, if it holds a plausible one. */
export function resetCodeFromHash(hash: string): string | null {
  let code: string;
  try {
    code = decodeURIComponent(hash.replace(/^#/, '')).trim();
  } catch {
    return null; // a malformed escape: not a link this server made
  }
  if (!code || code.length > MAX_RESET_CODE_CHARS) return null;
  return code;
}

/** A reset link's code is its whole fragment. */
export const resetCodeSpot: CodeSpot = {
  read: (url) => resetCodeFromHash(url.hash),
  remove: (url) => {
    url.hash = '';
  },
};
