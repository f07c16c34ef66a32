import { describe, expect, it } from 'vitest';
import { addressWithoutCode } from '../../lib/codeInAddress';
import { resetCodeFromHash, resetCodeSpot, resetLink } from './passwordReset';

describe('password reset links', () => {
  it('carry the code in the fragment and read it back', () => {
    const link = resetLink('https://chat.example', 'Ab-_9xYz');
    expect(link).toBe('https://chat.example/reset-password#Ab-_9xYz');
    expect(resetCodeFromHash(new URL(link).hash)).toBe('Ab-_9xYz');
  });

  it('refuse what no server made', () => {
    expect(resetCodeFromHash('')).toBeNull();
    expect(resetCodeFromHash('#')).toBeNull();
    expect(resetCodeFromHash('#   ')).toBeNull();
    expect(resetCodeFromHash(`#${'x'.repeat(65)}`)).toBeNull();
    expect(resetCodeFromHash('#%E0%A4%A')).toBeNull();
    expect(resetCodeFromHash('# abc ')).toBe('abc');
  });

  it('leave the address bar once read: the page keeps its path, the fragment goes', () => {
    const link = resetLink('https://chat.example', 'Ab-_9xYz');
    expect(resetCodeSpot.read(new URL(link))).toBe('Ab-_9xYz');
    expect(addressWithoutCode(resetCodeSpot, link)).toBe('/reset-password');
    expect(addressWithoutCode(resetCodeSpot, 'https://chat.example/reset-password?lang=en#Ab')).toBe('/reset-password?lang=en');
    // Even a code this page cannot use does not stay, nor an empty fragment.
    expect(addressWithoutCode(resetCodeSpot, 'https://chat.example/reset-password#%E0%A4%A')).toBe('/reset-password');
    expect(addressWithoutCode(resetCodeSpot, 'https://chat.example/reset-password#')).toBe('/reset-password');
    // After that (a reload), there is nothing to read and nothing to rewrite.
    expect(resetCodeSpot.read(new URL('https://chat.example/reset-password'))).toBeNull();
    expect(addressWithoutCode(resetCodeSpot, 'https://chat.example/reset-password')).toBeNull();
  });
});
