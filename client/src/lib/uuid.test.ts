import { describe, expect, it } from 'vitest';
import { uuidv7, uuidv7Time } from './uuid';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is a v7 UUID that carries the time it was made', () => {
    const id = uuidv7(Date.parse('2026-12-01T11:45:24.123Z'));
    expect(id).toMatch(V7);
    expect(uuidv7Time(id)).toBe('2026-12-01T11:45:24.123Z');
  });

  it('is unique, and sorts by time: ids of later milliseconds come later', () => {
    const ids = Array.from({ length: 200 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(200);
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 200 }, () => uuidv7(1_700_000_000_000)));
    expect(same.size).toBe(200);
  });
});

describe('uuidv7Time', () => {
  it('reads the creation time of a v7 id, and nothing from other ids', () => {
    expect(uuidv7Time('0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7b')).toBe('2024-07-14T23:46:51.886Z');
    expect(uuidv7Time('0190b3a4-5d6e-4f80-9a1b-2c3d4e5f6a7b')).toBeNull();
    expect(uuidv7Time('c1')).toBeNull();
  });
});
