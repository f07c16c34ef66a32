import { describe, expect, it } from 'vitest';
import { titleFault, titleFaultText, trimTitle } from './groupTitle';
import shared from './groupTitle.cases.json';

/** A title's code points, to tell which sample failed: many of them show nothing. */
const codePoints = (s: string) => [...s].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase()}`).join(' ');

describe('the faults the server refuses a group title for', () => {
  it('are found on the samples the server is tested on (validate.rs)', () => {
    for (const c of shared.cases) {
      expect(titleFault(c.title), codePoints(c.title)).toBe(c.fault);
      if (c.fault === null) expect(trimTitle(c.title), codePoints(c.title)).toBe('trimmed' in c ? c.trimmed : c.title);
    }
  });

  it('trims as the server does, not as JavaScript does', () => {
    expect(trimTitle('\u0085Team\ufeff')).toBe('Team\ufeff');
    expect(titleFault('Team\u0085')).toBeNull();
  });
});

describe('what a title field says about a fault', () => {
  it('is nothing for an empty box or one of spaces: plainly no name yet', () => {
    for (const title of ['', '   ', '\u3000']) expect(titleFaultText(title, titleFault(title))).toBeNull();
  });

  it('says why the button is off for invisible characters, control characters and overrides, or too many characters', () => {
    expect(titleFaultText('\u3164\u3164', titleFault('\u3164\u3164'))).toBe('Nothing in this name would show.');
    expect(titleFaultText('a\u0000b', titleFault('a\u0000b'))).toBe('A group name cannot hold control characters.');
    expect(titleFaultText('\u202egnp.exe', titleFault('\u202egnp.exe'))).toBe('A group name cannot hold control characters.');
    const long = '😀'.repeat(101);
    expect(titleFaultText(long, titleFault(long))).toBe('A group name has 1 to 100 characters.');
    expect(titleFaultText('Family', titleFault('Family'))).toBeNull();
  });
});
