/**
 * The store's encryption key (AES-256-GCM) for credentials at rest. It lives outside the
 * database, in a Kubernetes-Secret-shaped YAML file (`auth-encryption-secret.yaml`), so a stolen
 * backup alone does not reveal secrets; the database records only the key's fingerprint, which
 * is how a wrong or missing key is detected instead of producing garbage.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { yamlProblem } from '../config/index.ts';
import { AppError } from '../errors/index.ts';

const PREFIX = 'enc:v1:';
export const SECRET_FILE_NAME = 'auth-encryption-secret.yaml';
export const SECRET_NAME = 'astore-auth-encryption';
/** The Secret's data key holding the key (base64 in the YAML, raw bytes once Kubernetes mounts it). */
export const DATA_KEY = 'auth_encryption_key';

export class EncryptionKey {
  readonly fingerprint: string;
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) {
      throw new AppError('KEY_INVALID', `the encryption key must be 32 bytes, found ${key.length}`, {
        hint: `the ${SECRET_FILE_NAME} data.${DATA_KEY} must be base64 of 32 random bytes`, exitCode: 2,
      });
    }
    this.#key = key;
    this.fingerprint = fingerprintOf(key);
  }

  static generate(): EncryptionKey { return new EncryptionKey(randomBytes(32)); }

  raw(): Buffer { return Buffer.from(this.#key); }

  static isEncrypted(value: unknown): value is string { return typeof value === 'string' && value.startsWith(PREFIX); }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
  }

  decrypt(token: string): string {
    if (!EncryptionKey.isEncrypted(token)) throw new AppError('SECRET_CORRUPT', 'a stored secret is not in the encrypted form', { status: 500 });
    const buf = Buffer.from(token.slice(PREFIX.length), 'base64');
    if (buf.length < 28) throw new AppError('SECRET_CORRUPT', 'a stored secret is truncated', { status: 500 });
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, buf.subarray(0, 12));
      decipher.setAuthTag(buf.subarray(buf.length - 16));
      return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new AppError('KEY_MISMATCH', `a stored secret cannot be decrypted with the encryption key (fingerprint ${this.fingerprint})`, {
        hint: `the data was encrypted with another key: apply that store's ${SECRET_FILE_NAME} (astore secret apply -f FILE); if this data was restored while astore serve was running, restart astore serve`,
        status: 500, cause: err,
      });
    }
  }
}

export function fingerprintOf(key: Buffer): string {
  return 'sha256:' + createHash('sha256').update('astore-key-fingerprint\0').update(key).digest('hex').slice(0, 32);
}

export function formatSecretYaml(key: EncryptionKey, name = SECRET_NAME): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, labels: { service: 'conversation', app: name } },
    type: 'Opaque',
    data: { [DATA_KEY]: key.raw().toString('base64') },
  });
}

export function parseSecretYaml(text: string, source: string): EncryptionKey {
  const hint = 'use a file written by `astore secret export` (the auth-encryption-secret.yaml backed up beside the data)';
  // A binary file given by mistake (a dump): the parser's message would quote its bytes.
  if (text.includes('\u0000') || text.includes('\ufffd')) {
    throw new AppError('KEY_FILE_INVALID', `${source} is not a text file, so not an encryption-key Secret`, { hint, exitCode: 2 });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new AppError('KEY_FILE_INVALID', `${source} is not valid YAML: ${yamlProblem(err as Error)}`, { hint, exitCode: 2 });
  }
  const d = doc as { kind?: unknown; data?: Record<string, unknown>; stringData?: Record<string, unknown> } | null;
  const b64 = d?.data?.[DATA_KEY];
  if (d?.kind !== 'Secret' || typeof b64 !== 'string') {
    throw new AppError('KEY_FILE_INVALID', `${source} is not an encryption-key Secret (expected kind: Secret with data.${DATA_KEY})`, {
      hint, exitCode: 2,
    });
  }
  return new EncryptionKey(Buffer.from(b64, 'base64'));
}

/**
 * The key at `file`: the Secret YAML `astore secret export` writes or, when `file` is a directory,
 * that Secret as Kubernetes mounts it into a pod (one file per data key, holding the decoded
 * value): the seeds `oc apply -f auth-encryption-secret.yaml`, and a pod can use that Secret as is.
 */
export function readSecretFile(file: string): EncryptionKey | undefined {
  if (!existsSync(file)) return undefined;
  if (isDirectory(file)) return readMountedSecret(file);
  return parseSecretYaml(readFileSync(file, 'utf8'), file);
}

export function isDirectory(path: string): boolean {
  try { return statSync(path).isDirectory(); } catch { return false; }
}

function readMountedSecret(dir: string): EncryptionKey {
  const file = join(dir, DATA_KEY);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new AppError('KEY_FILE_INVALID', `${dir} is a directory but holds no readable ${DATA_KEY} (${(err as Error).message})`, {
      hint: `mount the encryption-key Secret there (kubectl apply -f the ${SECRET_FILE_NAME} from astore secret export), or point ASTORE_ENCRYPTION_SECRET at that YAML file`,
      exitCode: 2, cause: err,
    });
  }
  // Kubernetes writes the decoded 32 bytes; a value written as stringData stays base64 text.
  const text = bytes.toString('latin1').trim();
  return new EncryptionKey(bytes.length !== 32 && /^[A-Za-z0-9+/]{43}=$/.test(text) ? Buffer.from(text, 'base64') : bytes);
}

/** A Secret file the operator named (`secret apply -f`): one that cannot be read is an error code, not a stack trace. */
export function readGivenSecretFile(file: string): EncryptionKey {
  if (isDirectory(file)) return readMountedSecret(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('KEY_FILE_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`, {
      hint: `pass the ${SECRET_FILE_NAME} written by \`astore secret export\` (or \`oc get secret … -o yaml\`) where the backed-up store runs`, exitCode: 2, cause: err,
    });
  }
  return parseSecretYaml(text, file);
}
