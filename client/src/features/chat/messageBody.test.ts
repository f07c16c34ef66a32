import { describe, expect, it } from 'vitest';
import { bodyFault, faultText } from './messageBody';
import shared from './messageBody.cases.json';

/** A body's code points, to tell which sample failed: most of them show nothing. */
const codePoints = (s: string) => [...s].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase()}`).join(' ');

describe('the faults the server refuses a body for', () => {
  it('are found on the samples the server is tested on (validate.rs)', () => {
    for (const c of shared.cases) {
      const withAttachments = 'attachments' in c && c.attachments === true;
      expect(bodyFault(c.body, withAttachments), codePoints(c.body)).toBe(c.fault);
    }
  });

  it('takes invisible characters inside visible text, and blank ones with files', () => {
    expect(bodyFault('\u3164 hi \u2800', false)).toBeNull();
    expect(bodyFault('\u2800', true)).toBeNull();
    expect(bodyFault('\u200b\u3164\u2800', false)).toBe('blank');
  });

  it('refuses a control character wherever it is, files or not', () => {
    expect(bodyFault('fine until \u0000', true)).toBe('control');
    expect(bodyFault('tabs\tand\nlines are fine', false)).toBeNull();
  });
});

describe('what the composer says about a fault', () => {
  it('is nothing for an empty box or one of spaces and line breaks: plainly nothing to send', () => {
    for (const body of ['', '  ', '\n\n', '\u3000']) expect(faultText(body, bodyFault(body, false))).toBeNull();
  });

  it('says why Send is off when the box holds invisible characters or a control character', () => {
    expect(faultText('\u200b', bodyFault('\u200b', false))).toBe('Nothing in this message would show.');
    expect(faultText(' \u3164 ', bodyFault(' \u3164 ', false))).toBe('Nothing in this message would show.');
    expect(faultText('a\u0000b', bodyFault('a\u0000b', false))).toBe('A message cannot hold control characters.');
    expect(faultText('hi', bodyFault('hi', false))).toBeNull();
  });
});
