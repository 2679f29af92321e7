/**
 * Opening the store's database: attaches to (or starts) the embedded PostgreSQL of ASTORE_HOME,
 * or connects to a configured server, and hands out a pg Pool whose sessions use the store schema.
 */
import { constants as bufferConstants } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, open, rename, rm, writeFile } from 'node:fs/promises';
import { makeStoreDir } from './files.ts';
import { dirname, join } from 'node:path';
import pg from 'pg';
import {
  connectionUrl, formatPostgresYaml, readPostgresYaml, resolveTarget,
  type PgConnection, type PostgresYaml, type TargetOptions,
} from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import { startCluster, type RunningCluster } from './embedded.ts';
import { withHomeLock } from './home-lock.ts';
import { trackOwned, untrackOwned } from './owned.ts';
import { sessionName } from './session-name.ts';

export const STORE_SCHEMA = 'astore';

/**
 * The longest bytea the driver can hand back. node-postgres receives a bytea as hex text ("\x",
 * then two characters a byte), and a value longer than V8's longest string throws inside its
 * socket handler, where nothing can catch it: the process ends. A query that may meet a larger
 * value selects it only where `octet_length` (read from the stored header, no detoasting) is
 * at most this.
 */
export const MAX_READABLE_BYTEA = Math.floor((bufferConstants.MAX_STRING_LENGTH - 2) / 2);
const EMBEDDED_DATABASE = 'store';

export interface Database {
  pool: pg.Pool;
  connection: PgConnection;
  /** Set when the embedded server is in use. */
  embedded?: { home: string; cluster: RunningCluster } | undefined;
  close(): Promise<void>;
  /**
   * For an exit that gives up the work under way (a signal): stops an embedded server this call
   * started, ending this process's sessions with it (PostgreSQL's fast shutdown rolls them back),
   * unless another process still uses it. Unlike close() it waits for no query to finish.
   */
  abandon(): Promise<void>;
}

/** The embedded server's postgres.yaml, created with a random password on first use. */
async function embeddedCredentials(home: string): Promise<PostgresYaml> {
  const file = join(home, 'postgres.yaml');
  if (existsSync(file)) return readPostgresYaml(file);
  const creds: PostgresYaml = {
    host: '127.0.0.1', port: 0, database: EMBEDDED_DATABASE, username: 'postgres',
    su_username: 'postgres', su_password: randomBytes(18).toString('base64url'),
  };
  await writeAtomic(file, formatPostgresYaml(creds), 0o600);
  return creds;
}

/**
 * Replaces `file` all at once: written under a temporary name and fsynced, renamed over the old
 * one, and the directory fsynced so the rename itself survives a crash. Readers see the old
 * content or the new, never a torn file; a failed write leaves the old file and no temporary.
 */
export async function writeAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = await writeTemp(file, data, mode);
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(file));
}

/**
 * Writes and fsyncs `data` under a new temporary name beside `file`, and returns that name. The
 * name is created exclusively (O_EXCL): a file or symlink someone placed there is never written
 * through, and never removed (a failure removes only a temporary this call created).
 */
async function writeTemp(file: string, data: string | Buffer, mode: number): Promise<string> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, data, { mode, flush: true, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await rm(tmp, { force: true });
    throw err;
  }
  return tmp;
}

/**
 * Creates `file` all at once unless it exists: written and fsynced under a temporary name, then
 * hard-linked to its name, which fails when the name is taken. False, and nothing changed, when
 * another file was there first: for a file that must never be replaced (the encryption key),
 * where writeAtomic's rename would overwrite one another process has just created.
 */
export async function createAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<boolean> {
  const tmp = await writeTemp(file, data, mode);
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  await syncDir(dirname(file));
  return true;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try { await handle.sync(); } finally { await handle.close(); }
}

interface Embedded { connection: PgConnection; cluster: RunningCluster; presence: pg.Client }

/**
 * Starts or attaches to the home's server and opens this process's presence session on it: a
 * connection held until the database is closed, which the process that started the server sees
 * before stopping it (stopUnlessShared). Pool sessions could not serve for that: an idle pool
 * closes them after 10 s, and a command waiting on its operator (pgmig's prompts) had its server
 * stopped under it. The presence session is opened under the home's lock, and the owner stops the
 * server under that lock too (see openDatabase): a process that had found the server running but
 * not yet connected to it was not seen, and its first query met a stopped server.
 */
async function openEmbedded(home: string): Promise<Embedded> {
  await makeStoreDir(home, `the store's home ${home}`, 'set ASTORE_HOME to a writable directory (or DATABASE_URL / --postgres to use another PostgreSQL)');
  // Credentials, initdb and start under the home's lock; a process that waited for it finds the
  // server the other started and attaches to it.
  return withHomeLock(home, async () => {
    const creds = await embeddedCredentials(home);
    const cluster = await startCluster({
      dataDir: join(home, 'pg'), password: creds.su_password, port: creds.port || 0, logFile: join(home, 'postgres.log'),
    });
    if (cluster.port !== creds.port) {
      await writeAtomic(join(home, 'postgres.yaml'), formatPostgresYaml({ ...creds, port: cluster.port }), 0o600);
    }
    const presence = new pg.Client({ connectionString: cluster.url('postgres'), application_name: sessionName() });
    // The server's shutdown ends this session; without a listener that error would be thrown.
    presence.on('error', () => {});
    try {
      await presence.connect();
    } catch (err) {
      // A server this call started would otherwise run on with nothing left to stop it.
      if (cluster.owned) await cluster.stop().catch(() => {});
      const e = describeConnectionError(err, { host: '127.0.0.1', port: cluster.port, database: 'postgres', user: creds.su_username, password: creds.su_password });
      throw e.code !== 'PG_AUTH' ? e : new AppError('PG_AUTH', `the embedded PostgreSQL in ${home} refused the password in ${join(home, 'postgres.yaml')}`, {
        hint: 'that file was edited or comes from another ASTORE_HOME: put back the postgres.yaml this home was created with (its su_password), or point ASTORE_HOME at the home it belongs to',
        exitCode: e.exitCode, cause: err,
      });
    }
    try {
      const r = await presence.query('select 1 from pg_database where datname = $1', [creds.database]);
      if (r.rowCount === 0) await presence.query(`create database "${creds.database}"`);
    } catch (err) {
      // Two processes may create it at once; the loser sees duplicate_database, or the catalog's
      // unique violation when both got past the check before either committed.
      const code = (err as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') {
        await presence.end().catch(() => {});
        if (cluster.owned) await cluster.stop().catch(() => {});
        throw err;
      }
    }
    return {
      cluster, presence,
      connection: { host: '127.0.0.1', port: cluster.port, database: creds.database, user: creds.su_username, password: creds.su_password },
    };
  });
}

/**
 * Stops the server this process started unless another process uses it, under the home's lock so
 * that no process is between finding the server and connecting to it. A lock that cannot be had
 * leaves the server running: stopping it under a process that is attaching would be worse.
 */
async function stopOwnedServer(home: string, cluster: RunningCluster): Promise<void> {
  let locked = false;
  try {
    await withHomeLock(home, async () => { locked = true; await cluster.stopUnlessShared(); }, STOP_LOCK_WAIT_MS);
  } catch (err) {
    if (locked) throw err;
    if ((err as AppError).code === 'EMBEDDED_PG_BUSY') { cluster.detach(); return; }
    // The lock file cannot be made (the home was removed or made read-only): no process can be
    // attaching through this home either, and a server left running would have no one to stop it.
    await cluster.stopUnlessShared();
  }
}

/** How long a closing process waits for the home's lock before leaving its server running. */
const STOP_LOCK_WAIT_MS = 30_000;

/**
 * `connectTimeoutMs` bounds how long a query waits for a connection (a new one, or a free one in a
 * full pool); without it a server that stops answering (network partition) holds every request for
 * the OS connect timeout, minutes, instead of failing so the API can answer 503.
 */
export function createPool(connection: PgConnection, max = 10, connectTimeoutMs?: number): pg.Pool {
  const pool = new pg.Pool({
    host: connection.host, port: connection.port, database: connection.database,
    user: connection.user, password: connection.password, ssl: connection.ssl, max,
    options: `-c search_path=${STORE_SCHEMA},public`, application_name: sessionName(),
    ...(connectTimeoutMs ? { connectionTimeoutMillis: connectTimeoutMs } : {}),
  });
  // A client losing its connection (server restart, failover, pg_terminate_backend) must not crash
  // the process: pg-pool listens for that only on idle clients, and a checked-out client between
  // two queries (a backup run holds one for its whole run) emitted an unhandled 'error' that took
  // serve down. Its next query fails instead, and the pool drops it on release.
  pool.on('error', () => {});
  pool.on('connect', (client) => { client.on('error', () => {}); });
  return pool;
}

export async function openDatabase(opts: TargetOptions & { poolSize?: number; connectTimeoutMs?: number } = {}): Promise<Database> {
  const target = resolveTarget(opts);
  let connection: PgConnection;
  let embedded: Database['embedded'];
  let presence: pg.Client | undefined;
  if (target.kind === 'embedded') {
    const e = await openEmbedded(target.home);
    connection = e.connection;
    presence = e.presence;
    embedded = { home: target.home, cluster: e.cluster };
  } else {
    connection = target.connection;
  }
  let pool = createPool(connection, opts.poolSize, opts.connectTimeoutMs);
  try {
    try {
      await pool.query('select 1');
    } catch (err) {
      // sslmode prefer/allow: a server without TLS is used without it, as libpq does.
      if (!connection.tlsOptional || !/does not support SSL/i.test((err as Error).message)) throw err;
      await pool.end();
      connection = { ...connection, ssl: undefined, tlsOptional: false };
      pool = createPool(connection, opts.poolSize, opts.connectTimeoutMs);
      await pool.query('select 1');
    }
  } catch (err) {
    await pool.end();
    await presence?.end().catch(() => {});
    // A server this call started would otherwise run on with nothing left to stop it.
    if (embedded?.cluster.owned) await embedded.cluster.stop().catch(() => {});
    throw describeConnectionError(err, connection);
  }
  // Once only: the command's own close() and an early exit may both come.
  let closing: Promise<void> | undefined;
  const stopOwned = async (): Promise<void> => { if (embedded?.cluster.owned) await stopOwnedServer(embedded.home, embedded.cluster); };
  // Separate from closing: a close() waiting in pool.end() for a query that does not end (a second
  // SIGTERM during serve's shutdown) must not hold up the abandon, which ends that query with the server.
  let abandoning: Promise<void> | undefined;
  const db: Database = {
    pool, connection, embedded,
    close() {
      closing ??= (async () => {
        await pool.end();
        await presence?.end().catch(() => {});
        await stopOwned();
      })().finally(() => untrackOwned(db));
      return closing;
    },
    abandon() {
      abandoning ??= stopOwned().finally(() => untrackOwned(db));
      return abandoning;
    },
  };
  if (embedded?.cluster.owned) trackOwned(db);
  embedded?.cluster.handOver();
  return db;
}

/**
 * Whether `err` says the database cannot be reached right now (server stopped, restarting, network
 * gone) rather than that a statement was wrong: the pool reconnects by itself once it is back.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'].includes(code)) return true;
  // SQLSTATE class 08 (connection exception); 57P01-57P03: admin or crash shutdown, cannot connect now.
  if (/^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03') return true;
  // pg-pool's own wording when connectionTimeoutMillis runs out.
  return typeof e?.message === 'string' && /^Connection terminated|^timeout exceeded when trying to connect/.test(e.message);
}

/** Turns a driver error into one that says which part of connecting failed. */
export function describeConnectionError(err: unknown, c: PgConnection): AppError {
  const e = err as { code?: string; message?: string };
  const where = `${c.user}@${c.host}:${c.port}/${c.database}`;
  const msg = e.message ?? String(err);
  const table: Array<[boolean, string, string, string]> = [
    [e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN', 'PG_DNS', `cannot resolve host ${c.host}`, 'check the host name in postgres.yaml / DATABASE_URL'],
    [e.code === 'ECONNREFUSED', 'PG_REFUSED', `connection refused by ${c.host}:${c.port}`, 'is PostgreSQL running and listening on that address and port?'],
    [e.code === 'ETIMEDOUT' || /^timeout exceeded when trying to connect/.test(msg), 'PG_TIMEOUT', `connection to ${c.host}:${c.port} timed out`, 'check the network path and firewall'],
    // The server's access rules, checked before the TLS wording: their message ends in "SSL off" or
    // "no encryption", and neither is a handshake that failed nor a wrong password.
    [e.code === '28000' && /pg_hba\.conf/.test(msg), 'PG_HBA', `the server's pg_hba.conf does not let ${where} in: ${msg}`,
      /SSL off|no encryption/.test(msg) && !c.ssl
        ? 'the server may want TLS for this connection: set PG_CA_FILE to its CA (verified), or add ?sslmode=require to DATABASE_URL (encrypted, not verified)'
        : `have the DBA add a pg_hba.conf line for user ${c.user}, database ${c.database} from this host (and reload the server)`],
    [/does not support SSL/i.test(msg), 'PG_TLS', `TLS was asked of ${c.host}:${c.port}: ${msg}`,
      'the server does not offer TLS: enable ssl on it, or connect without (unset PG_CA_FILE, drop sslmode from DATABASE_URL)'],
    [/certificate|self.signed|SSL|TLS|altnames/i.test(msg), 'PG_TLS', `TLS handshake with ${c.host}:${c.port} failed: ${msg}`, 'check PG_CA_FILE: it must be the CA that signed the server certificate, and the host must match the certificate'],
    [e.code === '28P01' || e.code === '28000', 'PG_AUTH', `authentication failed for ${where}: ${msg}`, 'check su_username / su_password (or the URL credentials)'],
    [e.code === '3D000', 'PG_NO_DATABASE', `database ${c.database} does not exist on ${c.host}:${c.port}`, 'create it or fix the database name'],
    // While connecting, 42501 means the role may not connect to this database at all.
    [e.code === '42501', 'PG_PERMISSION', `permission denied for ${where}: ${msg}`,
      `have the DBA run GRANT CONNECT ON DATABASE "${c.database}" TO "${c.user}" (PUBLIC's CONNECT was revoked), or connect as a role that may (su_username)`],
  ];
  for (const [match, code, message, hint] of table) {
    if (match) return new AppError(code, message, { hint, exitCode: 3, cause: err });
  }
  return new AppError('PG_CONNECT', `cannot connect to ${where}: ${msg}`, { exitCode: 3, cause: err });
}

export { connectionUrl };

/** `fn` inside BEGIN … COMMIT on one pooled client; any error rolls back and is rethrown. */
export function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, 'begin', fn);
}

/**
 * `fn`'s reads from one snapshot (REPEATABLE READ, read only): a reply assembled from several
 * queries — a workspace and its intents, examples, entities… — then shows the data as it was at
 * one moment, never half of a concurrent update or delete.
 */
export function withSnapshot<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, 'begin isolation level repeatable read read only', fn);
}

async function inTransaction<T>(pool: pg.Pool, begin: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const out = await fn(client);
    await client.query('commit');
    return out;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
