// What the timeline shows of attachments: which are pictures, the size of their thumbnails, and
// a line of text for a message that has no text of its own.
import type { Attachment, Message } from '../../api/types';

/** The types the server shows inline, each with a thumbnail. */
const INLINE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** Longer side of a thumbnail, as the server makes them. */
const THUMBNAIL_SIDE = 320;

export function isPicture(a: Attachment): boolean {
  return INLINE.has(a.contentType) && !!a.width && !!a.height;
}

export const fileUrl = (a: Attachment) => `/api/attachments/${encodeURIComponent(a.id)}`;
export const thumbnailUrl = (a: Attachment) => `${fileUrl(a)}/thumbnail`;

/** The size a thumbnail is shown at: the picture's shape, at most 320 px on its longer side. */
export function thumbnailSize(a: Attachment): { width: number; height: number } {
  const w = a.width ?? THUMBNAIL_SIDE;
  const h = a.height ?? THUMBNAIL_SIDE;
  const scale = Math.min(1, THUMBNAIL_SIDE / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/** "PDF", "ZIP", "PNG": a short label for a file's type. */
export function typeLabel(a: Attachment): string {
  const fromName = /\.([A-Za-z0-9]{1,5})$/.exec(a.name)?.[1];
  if (fromName) return fromName.toUpperCase();
  const subtype = a.contentType.split('/')[1] ?? '';
  return subtype === 'octet-stream' || !subtype ? 'File' : subtype.toUpperCase();
}

/** "Photo", "3 photos", "report.pdf", "2 files": a message's attachments in a few words. */
export function attachmentSummary(list: Attachment[]): string {
  if (list.length === 0) return '';
  if (list.length === 1) return isPicture(list[0]!) ? 'Photo' : list[0]!.name;
  return list.every(isPicture) ? `${list.length} photos` : `${list.length} files`;
}

/** A message's text, or what it carries when it has none (previews, quotes). */
export function previewText(m: Pick<Message, 'body' | 'attachments'>): string {
  return m.body.trim() ? m.body : attachmentSummary(m.attachments);
}
