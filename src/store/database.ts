/**
 * Opening the store's database: attaches to (or starts) the embedded PostgreSQL of ASTORE_HOME,
 * or connects to a configured server, and hands out a pg Pool whose sessions use the store schema.
 */
import { constants as bufferConstants } from 'node:buffer';
import pg from 'pg';
import { resolveTarget, type PgConnection, type TargetOptions } from '../config/index.ts';
import { describeConnectionError } from './connection-errors.ts';
import type { RunningCluster } from './embedded.ts';
import { holdEmbedded, type EmbeddedHold } from './embedded-hold.ts';
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

export interface Database {
  pool: pg.Pool;
  connection: PgConnection;
  /** Set when the embedded server is in use; `cluster` is the one attached to now (see embedded-hold.ts). */
  embedded?: { readonly home: string; readonly cluster: RunningCluster } | undefined;
  close(): Promise<void>;
  /**
   * For an exit that gives up the work under way (a signal): stops an embedded server this call
   * started, ending this process's sessions with it (PostgreSQL's fast shutdown rolls them back),
   * unless another process still uses it. Unlike close() it waits for no query to finish.
   */
  abandon(): Promise<void>;
}

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
  let hold: EmbeddedHold | undefined;
  if (target.kind === 'embedded') {
    hold = await holdEmbedded(target.home);
    connection = hold.connection;
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
    // A server this call started would otherwise run on with nothing left to stop it.
    await hold?.discard();
    throw describeConnectionError(err, connection);
  }
  // Once only: the command's own close() and an early exit may both come.
  let closing: Promise<void> | undefined;
  // Separate from closing: a close() waiting in pool.end() for a query that does not end (a second
  // SIGTERM during serve's shutdown) must not hold up the abandon, which ends that query with the server.
  let abandoning: Promise<void> | undefined;
  const opened: Database = {
    pool, connection, embedded: hold,
    close() {
      closing ??= (async () => {
        await pool.end();
        await hold?.close();
      })().finally(() => untrackOwned(opened));
      return closing;
    },
    abandon() {
      abandoning ??= (hold?.abandon() ?? Promise.resolve()).finally(() => untrackOwned(opened));
      return abandoning;
    },
  };
  // On a signal too, the server is stopped unless another process uses it, whoever started it.
  if (hold) trackOwned(opened);
  hold?.cluster.handOver();
  return opened;
}

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
