import { describe, expect, it } from 'vitest';
import { uuidv4, uuidv7Time } from './uuid';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv4', () => {
  it('is a v4 UUID', () => {
    expect(uuidv4()).toMatch(V4);
  });

  it('works where crypto.randomUUID is missing (plain HTTP on a LAN address)', () => {
    // Shadow the prototype's method on the instance, as an insecure context has none.
    Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true });
    try {
      const ids = new Set(Array.from({ length: 200 }, uuidv4));
      expect(ids.size).toBe(200);
      for (const id of ids) expect(id).toMatch(V4);
    } finally {
      delete (crypto as { randomUUID?: unknown }).randomUUID;
    }
    expect(typeof crypto.randomUUID).toBe('function');
  });
});

describe('uuidv7Time', () => {
  it('reads the creation time of a v7 id, and nothing from other ids', () => {
    expect(uuidv7Time('0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7b')).toBe('2024-07-14T23:46:51.886Z');
    expect(uuidv7Time('0190b3a4-5d6e-4f80-9a1b-2c3d4e5f6a7b')).toBeNull();
    expect(uuidv7Time('c1')).toBeNull();
  });
});
