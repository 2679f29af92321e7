/**
 * Webhook header values are credentials (e.g. `Authorization: Basic …`): they are stored
 * encrypted and decrypted only when a workspace is read through the API.
 */
import type { EncryptionKey } from './encryption-key.ts';

interface Header { name?: unknown; value?: unknown }
interface Webhook { headers?: Header[] | unknown }

function mapHeaders(webhooks: unknown, fn: (value: string) => string): unknown {
  if (!Array.isArray(webhooks)) return webhooks;
  return webhooks.map((w: Webhook) => {
    if (!w || typeof w !== 'object' || !Array.isArray(w.headers)) return w;
    return { ...w, headers: w.headers.map((h: Header) => (h && typeof h.value === 'string' ? { ...h, value: fn(h.value) } : h)) };
  });
}

/**
 * Every value is encrypted, even one that looks encrypted: values come from clients (or from a
 * pre-1.2.0 archive, in plain text), and a client's "enc:v1:…" taken as already encrypted would be
 * stored in plain text and make the workspace unreadable.
 */
export function encryptWebhooks(webhooks: unknown, key: EncryptionKey): unknown {
  return mapHeaders(webhooks, (v) => key.encrypt(v));
}

export function decryptWebhooks(webhooks: unknown, key: EncryptionKey): unknown {
  return mapHeaders(webhooks, (v) => key.decrypt(v));
}
