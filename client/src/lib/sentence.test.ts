import { describe, expect, it } from 'vitest';
import { asSentence, counted } from './sentence';

describe('asSentence', () => {
  it('capitalises and closes a server message once', () => {
    expect(asSentence('no such conversation')).toBe('No such conversation.');
    expect(asSentence('too many requests!')).toBe('Too many requests!');
    expect(asSentence('  ')).toBe('');
  });
});

describe('counted', () => {
  it('says one in the singular and every other number in the plural', () => {
    expect(counted(1, 'member')).toBe('1 member');
    expect(counted(2, 'member')).toBe('2 members');
    expect(counted(0, 'member')).toBe('0 members');
  });
});
