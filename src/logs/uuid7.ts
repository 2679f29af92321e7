import { randomBytes } from 'node:crypto';

/**
 * A time-ordered UUID (version 7: 48-bit Unix milliseconds, then random bits). Log ids written in
 * time order land at the right edge of the primary-key index instead of on random pages, which
 * keeps every log insert from touching (and WAL-logging) a page of its own.
 */
export function uuid7(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
