// Invitation links: what the admin copies, and what the sign-up form reads back.
import { MAX_INVITE_CODE_CHARS, MAX_INVITE_USES } from '../../api/generated/limits';
import type { CodeSpot } from '../../lib/codeInAddress';

/** The link a new user opens: the sign-up form with the code filled in. */
export function inviteLink(origin: string, code: string): string {
  return `${origin}/signup?invite=${encodeURIComponent(code)}`;
}

/** The invite code of a `?invite=` query string, if it holds a plausible one. */
export function inviteFromSearch(search: string): string | null {
  const code = new URLSearchParams(search).get('invite')?.trim();
  if (!code || code.length > MAX_INVITE_CODE_CHARS) return null;
  return code;
}

/** An invitation link's code is its `invite` parameter (any other parameter stays). */
export const inviteCodeSpot: CodeSpot = {
  read: (url) => inviteFromSearch(url.search),
  remove: (url) => url.searchParams.delete('invite'),
};

/** How long a new invitation stays valid: the choices the admin page offers. */
export const VALIDITY_CHOICES: { label: string; hours: number }[] = [
  { label: '1 hour', hours: 1 },
  { label: '1 day', hours: 24 },
  { label: '1 week', hours: 168 },
  { label: '30 days', hours: 720 },
];

/** `maxUses` from the form's text, or an explanation of what is wrong with it. */
export function parseMaxUses(text: string): { ok: true; value: number } | { ok: false; error: string } {
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || value < 1 || value > MAX_INVITE_USES) {
    return { ok: false, error: `An invitation can be used 1 to ${MAX_INVITE_USES} times.` };
  }
  return { ok: true, value };
}
