import { describe, expect, it } from 'vitest';
import { resetCodeFromHash, resetLink } from './passwordReset';

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
});
