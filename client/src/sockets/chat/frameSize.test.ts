import { describe, expect, it } from 'vitest';
import { MAX_BODY_CHARS } from '../../api/generated/limits';
import type { Attachment } from '../../api/types';
import { fitsInFrame, frameBytes, MAX_FRAME_BYTES, messageFits, sendFrame } from './frameSize';

/** Uploads as the server names them (UUIDs). */
const files = (n: number): Attachment[] =>
  Array.from({ length: n }, (_, i) => ({ id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`, name: `${i}.png`, contentType: 'image/png', size: 1 }));

const message = { conversationId: '0190a000-0000-7000-8000-0000000000c1', replyToSeq: null, attachments: [] };

describe('frame size', () => {
  it('is counted as on the wire: UTF-8 bytes of the JSON, escapes included', () => {
    const size = (body: string) => frameBytes({ type: 'edit', conversationId: 'c1', seq: 1, body });
    const empty = size('');
    expect(size('a') - empty).toBe(1);
    expect(size('é') - empty).toBe(2);
    expect(size('😀') - empty).toBe(4); // two UTF-16 units, one character
    expect(size('"') - empty).toBe(2);
    expect(size('\u0007') - empty).toBe(6);
  });

  it('fits up to the server limit, and not a byte more', () => {
    const base = frameBytes(sendFrame({ ...message, clientId: '00000000-0000-7000-8000-000000000001', body: '' }));
    const fits = (n: number) => fitsInFrame(sendFrame({ ...message, clientId: '00000000-0000-7000-8000-000000000001', body: 'a'.repeat(n) }));
    expect(MAX_FRAME_BYTES).toBe(16 * 1024);
    expect(fits(MAX_FRAME_BYTES - base)).toBe(true);
    expect(fits(MAX_FRAME_BYTES - base + 1)).toBe(false);
  });

  it('a body of the most characters in emoji fits alone, not with ten files', () => {
    const body = '😀'.repeat(MAX_BODY_CHARS);
    expect(messageFits({ ...message, body })).toBe(true);
    expect(messageFits({ ...message, body, replyToSeq: 123_456 })).toBe(true);
    expect(messageFits({ ...message, body, attachments: files(10) })).toBe(false);
    expect(messageFits({ ...message, body: 'hello', attachments: files(10) })).toBe(true);
  });
});
