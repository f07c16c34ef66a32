// What the timeline shows of attachments: which are pictures, the size of their thumbnails, and
// a line of text for a message that has no text of its own.
import type { Attachment, Message } from '../../api/types';
import { plainText } from '../../lib/markdown';

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

/** The server's name for bytes it could not place (text files, and files that are not what their name says). */
const UNKNOWN_TYPE = 'application/octet-stream';
/** Labels of types the server recognizes by their bytes, whatever the file is called. */
const LABELS: Record<string, string> = {
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/gif': 'GIF',
  'image/webp': 'WEBP',
  'application/pdf': 'PDF',
  'application/zip': 'ZIP',
  'application/gzip': 'GZ',
  'audio/mpeg': 'MP3',
  'video/mp4': 'MP4',
};
/** Extensions of those types: on bytes the server could not place, such a name is wrong. */
const SNIFFED_EXTENSIONS = new Set(['PNG', 'JPG', 'JPEG', 'GIF', 'WEBP', 'PDF', 'ZIP', 'GZ', 'MP3', 'MP4']);

/**
 * "PDF", "ZIP", "TXT": a short label for a file's type, from the type the server sniffed from its
 * bytes (the name may say otherwise: a text file called photo.png is no PNG). The name's
 * extension labels types without a label of their own, and files the server could not place
 * unless it claims a type the server would have recognized.
 */
export function typeLabel(a: Attachment): string {
  const known = LABELS[a.contentType];
  if (known) return known;
  const extension = /\.([A-Za-z0-9]{1,5})$/.exec(a.name)?.[1]?.toUpperCase();
  if (a.contentType === UNKNOWN_TYPE || !a.contentType) return extension && !SNIFFED_EXTENSIONS.has(extension) ? extension : 'File';
  return extension ?? 'File';
}

/** "Photo", "3 photos", "report.pdf", "2 files": a message's attachments in a few words. */
export function attachmentSummary(list: Attachment[]): string {
  if (list.length === 0) return '';
  if (list.length === 1) return isPicture(list[0]!) ? 'Photo' : list[0]!.name;
  return list.every(isPicture) ? `${list.length} photos` : `${list.length} files`;
}

/** A message's text on one line without its formatting markers, or what it carries when it has none (previews, quotes). */
export function previewText(m: Pick<Message, 'body' | 'attachments'>): string {
  return plainText(m.body) || attachmentSummary(m.attachments);
}
