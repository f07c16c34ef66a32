import { describe, expect, it } from 'vitest';
import { startsRightToLeft } from './direction';

describe('startsRightToLeft', () => {
  it('goes by the first letter, skipping neutral characters', () => {
    expect(startsRightToLeft('שלום world')).toBe(true);
    expect(startsRightToLeft('مرحبا')).toBe(true);
    expect(startsRightToLeft('12:30 😀 — שלום')).toBe(true);
    expect(startsRightToLeft('hello שלום')).toBe(false);
    expect(startsRightToLeft('123 !?')).toBe(false);
    expect(startsRightToLeft('')).toBe(false);
  });
});
