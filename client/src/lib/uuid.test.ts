import { describe, expect, it } from 'vitest';
import { uuidv4 } from './uuid';

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
