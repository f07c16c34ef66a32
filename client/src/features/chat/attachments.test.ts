import { describe, expect, it } from 'vitest';
import type { Attachment } from '../../api/types';
import { attachmentSummary, isPicture, previewText, thumbnailSize, typeLabel } from './attachments';

const photo = (width: number, height: number): Attachment => ({ id: 'p', name: 'cat.jpg', contentType: 'image/jpeg', size: 5, width, height });
const pdf: Attachment = { id: 'd', name: 'report.pdf', contentType: 'application/pdf', size: 5 };

describe('attachments in the timeline', () => {
  it('shows pictures of the inline types that have a size, and everything else as a file', () => {
    expect(isPicture(photo(10, 10))).toBe(true);
    expect(isPicture(pdf)).toBe(false);
    expect(isPicture({ ...pdf, contentType: 'image/svg+xml', width: 1, height: 1 })).toBe(false);
    expect(isPicture({ ...photo(1, 1), width: undefined })).toBe(false);
  });

  it('keeps the space of a thumbnail: its shape, at most 320 px', () => {
    expect(thumbnailSize(photo(4000, 3000))).toEqual({ width: 320, height: 240 });
    expect(thumbnailSize(photo(1000, 4000))).toEqual({ width: 80, height: 320 });
    expect(thumbnailSize(photo(100, 50))).toEqual({ width: 100, height: 50 });
  });

  it('says what a message without text carries', () => {
    expect(attachmentSummary([photo(1, 1)])).toBe('Photo');
    expect(attachmentSummary([photo(1, 1), photo(1, 1)])).toBe('2 photos');
    expect(attachmentSummary([pdf])).toBe('report.pdf');
    expect(attachmentSummary([pdf, photo(1, 1)])).toBe('2 files');
    expect(previewText({ body: '', attachments: [pdf] })).toBe('report.pdf');
    expect(previewText({ body: 'hi', attachments: [pdf] })).toBe('hi');
    expect(typeLabel(pdf)).toBe('PDF');
    expect(typeLabel({ ...pdf, name: 'noext', contentType: 'application/octet-stream' })).toBe('File');
  });

  it('previews a formatted message as its text on one line, without the markers', () => {
    expect(previewText({ body: '*Lunch* at _noon_?\n> `12:00`', attachments: [] })).toBe('Lunch at noon? 12:00');
    // An empty fence shows as written in the bubble (no empty code box), so in the preview too.
    expect(previewText({ body: '```\n```', attachments: [pdf] })).toBe('``` ```');
  });

  it('labels a file by the type the server found in its bytes, not by what its name claims', () => {
    const file = (name: string, contentType: string): Attachment => ({ id: 'f', name, contentType, size: 5 });
    expect(typeLabel(file('notes.png', 'application/octet-stream'))).toBe('File');
    expect(typeLabel(file('scan.png', 'application/pdf'))).toBe('PDF');
    expect(typeLabel(file('notes.txt', 'application/octet-stream'))).toBe('TXT');
    expect(typeLabel(file('letter.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'))).toBe('DOCX');
    expect(typeLabel(file('archive', 'application/x-7z-compressed'))).toBe('File');
  });
});
