/**
 * Opening the store: database, encryption key and schema, checked against each other before
 * anything is served. The key is verified against the fingerprint the database recorded, so a
 * store never runs (or encrypts new data) with the wrong key.
 */
import { dirname, join } from 'node:path';
import type pg from 'pg';
import {
  EncryptionKey, encryptWebhooks, formatSecretYaml, readSecretFile, SECRET_FILE_NAME,
} from '../auth/index.ts';
import { astoreHome, type TargetOptions } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import { openDatabase, STORE_SCHEMA, type Database } from './database.ts';
import { createAtomic, makeStoreDir } from './files.ts';
import { withAdvisoryLock } from './advisory-lock.ts';
import { CURRENT_RELEASE, isKnownRelease, migrate, schemaRelease } from './migrations/index.ts';

export interface Store extends Database {
  key: EncryptionKey;
  release: string;
  home: string;
}

export interface OpenStoreOptions extends TargetOptions {
  /** Apply pending migrations (serve and migrate do; other commands require an up-to-date schema). */
  migrate?: boolean;
  poolSize?: number;
  /** Longest wait for a database connection; unset: no limit of the store's own (see createPool). */
  connectTimeoutMs?: number;
}

export function secretFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.ASTORE_ENCRYPTION_SECRET || join(astoreHome(env), SECRET_FILE_NAME);
}

/** The fingerprint of the key the store's data is encrypted with, if the schema records one. */
export async function recordedFingerprint(client: Pick<pg.ClientBase, 'query'>, schema: string): Promise<string | undefined> {
  const t = await client.query(`select 1 from pg_tables where schemaname = $1 and tablename = 'store_meta'`, [schema]);
  if (t.rowCount === 0) return undefined;
  const r = await client.query<{ value: string }>(`select value #>> '{}' as value from "${schema}".store_meta where key = 'encryption_key_fingerprint'`);
  return r.rows[0]?.value;
}

/** Loads the key file, creating it only for a store that has never had one. */
export async function resolveKey(client: pg.ClientBase, schema: string, env: NodeJS.ProcessEnv = process.env): Promise<EncryptionKey> {
  const file = secretFilePath(env);
  const recorded = await recordedFingerprint(client, schema);
  let key = readSecretFile(file);
  if (!key) {
    if (recorded) {
      // Typically a command run with another ASTORE_HOME than the store's serve (another folder or
      // machine against the same external PostgreSQL), which must not create a second key.
      throw new AppError('KEY_MISSING', `the encryption key file ${file} is missing, but this database was set up with key ${recorded}`, {
        hint: `run it with the store's ASTORE_HOME (the one its astore serve uses) or ASTORE_ENCRYPTION_SECRET set to its key file; on another machine, install the key with \`astore secret apply -f ${SECRET_FILE_NAME}\` (from \`astore secret export\` where the store runs)`, exitCode: 5,
      });
    }
    key = await createKeyFile(file);
  }
  if (recorded && recorded !== key.fingerprint) throw keyMismatch(file, key, recorded);
  return key;
}

/**
 * A new key in a new key file; the key already there when another process (a second command
 * starting on the same ASTORE_HOME) created the file first. Replacing that file would leave the
 * other process running with a key no file holds any more.
 */
async function createKeyFile(file: string): Promise<EncryptionKey> {
  const key = EncryptionKey.generate();
  // With DATABASE_URL or --postgres nothing else creates ASTORE_HOME, and a first run on a fresh
  // machine must not die on ENOENT here.
  await makeStoreDir(dirname(file), `${dirname(file)} for the encryption key file`, 'set ASTORE_HOME (or ASTORE_ENCRYPTION_SECRET, the key file\'s path) to a writable place');
  if (await createAtomic(file, formatSecretYaml(key), 0o600)) return key;
  return readSecretFile(file)!;
}

function keyMismatch(file: string, key: EncryptionKey, recorded: string): AppError {
  return new AppError('KEY_MISMATCH', `the encryption key in ${file} (${key.fingerprint}) is not the key this database was written with (${recorded})`, {
    hint: `apply the matching ${SECRET_FILE_NAME} with \`astore secret apply -f FILE\` (a key that secret apply replaced is kept beside it as ${file}.<time>.bak); `
      + 'to restore a backup written under the installed key into this store, start astore serve and create the instances and tokens under that previous key, then apply this one again, run pgmig and restart astore serve', exitCode: 5,
  });
}

/**
 * Records the key of a store opened without one recorded, and checks it against the database's
 * otherwise. Never overwrites: a fingerprint recorded since resolveKey read it (another process
 * opening a new store, a pgmig swap) belongs to data this key cannot read.
 */
async function claimFingerprint(client: pg.ClientBase, schema: string, key: EncryptionKey, file: string): Promise<void> {
  await client.query(`insert into "${schema}".store_meta (key, value) values ('encryption_key_fingerprint', to_jsonb($1::text))
    on conflict (key) do nothing`, [key.fingerprint]);
  const recorded = await recordedFingerprint(client, schema);
  if (recorded !== key.fingerprint) throw keyMismatch(file, key, recorded ?? '(none)');
}

/** Serialises opening the store (key, migrations, fingerprint) across processes; see openStore. */
const OPEN_LOCK = 0x61_73_74_6f_6b_79; // "astoky"

/** Overwrites the recorded fingerprint: for a schema whose data was just (re-)encrypted with `key` (restore's staging schema). */
export async function recordFingerprint(client: pg.ClientBase, schema: string, key: EncryptionKey): Promise<void> {
  await client.query(`insert into "${schema}".store_meta (key, value) values ('encryption_key_fingerprint', to_jsonb($1::text))
    on conflict (key) do update set value = excluded.value`, [key.fingerprint]);
}

/** Commands that use the store's tables without migrating it need it at this program's release. */
export function assertCurrentRelease(release: string | undefined): void {
  if (release === CURRENT_RELEASE) return;
  // A release no migration of this program names was written by a newer one: migrating cannot help.
  const newer = release !== undefined && !isKnownRelease(release);
  throw new AppError('SCHEMA_NOT_CURRENT', `the store schema is at release ${release ?? '(none)'}, this program needs ${CURRENT_RELEASE}`, {
    hint: newer ? `the store was upgraded by a newer release (${release}): run that release of astore` : 'run `astore migrate` (or start `astore serve`, which migrates)',
    exitCode: 4,
  });
}

export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  const db = await openDatabase(opts);
  try {
    const client = await db.pool.connect();
    try {
      // Under one lock from reading the recorded fingerprint to recording it: two processes opening
      // a new store with different key files (two homes, one database) would otherwise both pass
      // resolveKey, and one of them encrypt with its key (m003) what the other's fingerprint claims.
      return await withAdvisoryLock(client, OPEN_LOCK, async () => {
        const key = await resolveKey(client, STORE_SCHEMA);
        let release: string | undefined;
        if (opts.migrate) {
          release = (await migrate(client, { schema: STORE_SCHEMA, context: { encryptWebhooks: (w) => encryptWebhooks(w, key) } })).release;
        } else {
          release = await schemaRelease(client, STORE_SCHEMA);
          assertCurrentRelease(release);
        }
        await claimFingerprint(client, STORE_SCHEMA, key, secretFilePath());
        return { ...db, key, release: release!, home: astoreHome() };
      });
    } finally {
      client.release();
    }
  } catch (err) {
    const described = isPermissionDenied(err) ? await describePermissionDenied(err, db) : err;
    await db.close();
    throw described;
  }
}

function isPermissionDenied(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.code === '42501' || e.cause?.code === '42501';
}

/**
 * A role the DBA made without CREATE on the database, or one that is not the role that created
 * the store schema (`astore migrate` run through postgres.yaml's su_username, the store then run
 * as the application role): says which, and what to change, instead of a bare driver error.
 */
async function describePermissionDenied(err: unknown, db: Database): Promise<AppError> {
  const { user, database } = db.connection;
  const pgMessage = ((err as { cause?: Error }).cause ?? (err as Error)).message;
  const owner = await db.pool.query<{ owner: string }>(
    'select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = $1', [STORE_SCHEMA],
  ).then((r) => r.rows[0]?.owner, () => undefined);
  const options = { exitCode: 3, cause: err };
  if (owner === undefined) {
    return new AppError('PG_PERMISSION', `role ${user} may not create the store schema ${STORE_SCHEMA} in database ${database}: ${pgMessage}`, {
      ...options,
      hint: `the store's role needs CREATE on its database: make it the owner (ALTER DATABASE "${database}" OWNER TO "${user}") or GRANT CREATE ON DATABASE "${database}" TO "${user}", then run astore migrate again`,
    });
  }
  if (owner !== user) {
    return new AppError('PG_PERMISSION', `the store schema ${STORE_SCHEMA} in database ${database} belongs to role ${owner}, and role ${user} may not use it: ${pgMessage}`, {
      ...options,
      hint: `connect as ${owner} (the role that ran astore migrate), or have the DBA give the schema and everything in it to ${user} (ALTER SCHEMA ${STORE_SCHEMA} OWNER TO "${user}", and the same for its tables and sequences)`,
    });
  }
  return new AppError('PG_PERMISSION', `role ${user} was denied access in database ${database}: ${pgMessage}`, {
    ...options, hint: `give ${user} the privilege named above (it owns the store schema, so a grant or policy outside it is missing)`,
  });
}
