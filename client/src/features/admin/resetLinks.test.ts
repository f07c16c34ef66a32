import { describe, expect, it } from 'vitest';
import { liveResetLink, replaceResetLinkText } from './resetLinks';

describe('reset links in the accounts list', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it('are live until they expire, even in a list fetched before', () => {
    expect(liveResetLink({ resetExpiresAt: '2025-03-02T11:00:00Z' }, now)).toEqual(new Date('2025-03-02T11:00:00Z'));
    expect(liveResetLink({ resetExpiresAt: '2025-03-01T12:00:00Z' }, now)).toBeNull();
    expect(liveResetLink({ resetExpiresAt: '2025-03-01T11:59:59Z' }, now)).toBeNull();
    expect(liveResetLink({ resetExpiresAt: null }, now)).toBeNull();
  });

  it('are named with their expiry before a new one replaces them', () => {
    const until = new Date('2025-03-02T11:00:00Z');
    const text = replaceResetLinkText('ann', until);
    expect(text).toContain(`A reset link for ann works until ${until.toLocaleString()}.`);
    expect(text).toMatch(/A new one stops it working, even if ann already has it\. Make a new one\?$/);
  });
});
