// Password reset links as the accounts list shows them: whether an account has one that works,
// and what the admin reads before a new one replaces it.
import type { AdminUser } from '../../api/types';

/**
 * Until when the account's reset link works, or null when it has none that still does. The
 * list may have been fetched before the link expired: `now` (ms) decides.
 */
export function liveResetLink(user: Pick<AdminUser, 'resetExpiresAt'>, now: number): Date | null {
  if (!user.resetExpiresAt) return null;
  const until = new Date(user.resetExpiresAt);
  return until.getTime() > now ? until : null;
}

/** Asked before a new link voids the live one, which may already be in the person's hands. */
export function replaceResetLinkText(username: string, until: Date): string {
  return `A reset link for ${username} works until ${until.toLocaleString()}. A new one stops it working, even if ${username} already has it. Make a new one?`;
}
