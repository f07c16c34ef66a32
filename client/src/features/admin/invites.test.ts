import { describe, expect, it } from 'vitest';
import { addressWithoutCode } from '../../lib/codeInAddress';
import { inviteCodeSpot, inviteFromSearch, inviteLink, parseMaxUses } from './invites';

describe('invitation links', () => {
  it('carry the code to the sign-up form and back', () => {
    const link = inviteLink('https://chat.example.org', 'aB-_9x');
    expect(link).toBe('https://chat.example.org/signup?invite=aB-_9x');
    expect(inviteFromSearch(new URL(link).search)).toBe('aB-_9x');
  });

  it('survive codes that need escaping', () => {
    const link = inviteLink('http://pi:8080', 'a b&c');
    expect(inviteFromSearch(new URL(link).search)).toBe('a b&c');
  });

  it('ignore a missing, empty or oversized code', () => {
    expect(inviteFromSearch('')).toBeNull();
    expect(inviteFromSearch('?other=1')).toBeNull();
    expect(inviteFromSearch('?invite=%20%20')).toBeNull();
    expect(inviteFromSearch(`?invite=${'x'.repeat(65)}`)).toBeNull();
    expect(inviteFromSearch(`?invite=${'x'.repeat(64)}`)).toBe('x'.repeat(64));
  });

  it('leave the address bar once read, as reset links do: only the code goes', () => {
    const link = inviteLink('https://chat.example.org', 'aB-_9x');
    expect(inviteCodeSpot.read(new URL(link))).toBe('aB-_9x');
    expect(addressWithoutCode(inviteCodeSpot, link)).toBe('/signup');
    expect(addressWithoutCode(inviteCodeSpot, 'https://chat.example.org/signup?lang=en&invite=aB#top')).toBe('/signup?lang=en#top');
    expect(addressWithoutCode(inviteCodeSpot, 'https://chat.example.org/signup?invite=')).toBe('/signup');
    expect(inviteCodeSpot.read(new URL('https://chat.example.org/signup'))).toBeNull();
    expect(addressWithoutCode(inviteCodeSpot, 'https://chat.example.org/signup?lang=en')).toBeNull();
  });
});

describe('the number of uses', () => {
  it('is a whole number from 1 to 1000', () => {
    expect(parseMaxUses('1')).toEqual({ ok: true, value: 1 });
    expect(parseMaxUses(' 1000 ')).toEqual({ ok: true, value: 1000 });
    for (const bad of ['0', '1001', '-1', '2.5', 'ten', '']) {
      expect(parseMaxUses(bad).ok, bad).toBe(false);
    }
  });
});
