/**
 * A random (v4) UUID for a message's clientId. `crypto.randomUUID` exists only in secure
 * contexts, and GoChat is also used over plain HTTP on a LAN address, where it is missing;
 * `crypto.getRandomValues` works everywhere.
 */
export function uuidv4(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
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
