/**
 * A v7 UUID for a message's clientId: the time in milliseconds, then random bits. The server
 * keeps every (sender, clientId) in an index to refuse a resent message twice; ids that grow
 * with time land at the end of the sender's part of it, where random ones would each dirty a
 * page of their own (written again at every checkpoint, and read from disk first once the
 * index outgrows memory). `crypto.getRandomValues` works everywhere, also over plain HTTP on a
 * LAN address, where `crypto.randomUUID` is missing.
 */
export function uuidv7(now: number = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 0; i < 6; i++) b[i] = Math.floor(now / 2 ** (8 * (5 - i))) % 256;
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** When a v7 UUID (the server's ids) was made, as an ISO time; null for any other string. */
export function uuidv7Time(id: string): string | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/i.test(id)) return null;
  const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  return new Date(ms).toISOString();
}
