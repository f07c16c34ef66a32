// What a notification says of itself beside its preview: who sent it, in which group, and
// whether it mentions me. The service worker (public/sw.js) words pushes alike; it cannot import
// this module, so a change here is made there too.
import type { Conversation, Notification } from '../../api/types';
import { conversationTitle } from '../chat/conversation';

/**
 * What follows the sender's name: " mentioned you in Team", " in Team", " mentioned you" (a group
 * whose title is not known here), or nothing (a direct message).
 */
export function notificationContext(mentioned: boolean, groupTitle: string | null): string {
  const where = groupTitle === null ? '' : ` in ${groupTitle}`;
  return mentioned ? ` mentioned you${where}` : where;
}

/** The title of a group, or null for a direct conversation and one not loaded (yet). */
export function groupTitleOf(c: Conversation | undefined): string | null {
  return c?.kind === 'group' ? conversationTitle(c) : null;
}

/** A notification's title in the browser's own notifications: "ann mentioned you in Team". */
export function notificationTitle(n: Pick<Notification, 'from' | 'mentioned'>, groupTitle: string | null): string {
  return n.from.username + notificationContext(n.mentioned, groupTitle);
}
