/**
 * This process's hold on the embedded PostgreSQL of its home: the server it started or found
 * running, and a presence session on it that tells the other processes using the server that this
 * one still does. When the server goes away under a running process (stopped by hand, killed, the
 * machine's OOM killer), the hold brings it back: it attaches to a server another process has
 * started meanwhile, or starts the cluster again itself. Before, the presence session was not
 * reopened: the next CLI command started the server, saw nobody else on it and stopped it when it
 * was done, and `astore serve` answered 503 until someone started it by hand.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import pg from 'pg';
import { formatPostgresYaml, readPostgresYaml, type PgConnection, type PostgresYaml } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import { describeConnectionError } from './connection-errors.ts';
import { freePort, startCluster, type RunningCluster } from './embedded.ts';
import { makeStoreDir, writeAtomic } from './files.ts';
import { withHomeLock } from './home-lock.ts';
import { PRESENCE_ROLE, sessionName } from './session-name.ts';

const EMBEDDED_DATABASE = 'store';

/**
 * The embedded server's postgres.yaml, created with a random password and a free port on first
 * use. (Port 0, "pick one at start", was written until the first start succeeded: a first start
 * that failed left a file no later run could read, CONFIG_INVALID "port: too small".)
 */
async function embeddedCredentials(home: string): Promise<PostgresYaml> {
  const file = join(home, 'postgres.yaml');
  if (existsSync(file)) return readPostgresYaml(file);
  const creds: PostgresYaml = {
    host: '127.0.0.1', port: await freePort(), database: EMBEDDED_DATABASE, username: 'postgres',
    su_username: 'postgres', su_password: randomBytes(18).toString('base64url'),
  };
  await writeAtomic(file, formatPostgresYaml(creds), 0o600);
  return creds;
}

interface Attachment {
  connection: PgConnection;
  cluster: RunningCluster;
  presence: pg.Client;
  /** Settles when the presence session ends; made as soon as it is open, so no end goes unseen. */
  ended: Promise<void>;
  /** The cluster's pg_control system identifier: which cluster this is, whatever its port. */
  systemId: string;
}

/**
 * Starts or attaches to the home's server and opens this process's presence session on it: a
 * connection held until the database is closed, which a process leaving the server sees before
 * stopping it (stopUnlessShared). Pool sessions could not serve for that: an idle pool
 * closes them after 10 s, and a command waiting on its operator (pgmig's prompts) had its server
 * stopped under it. The presence session is opened under the home's lock, and a process leaving
 * stops the server under that lock too (leaveServer): a process that had found the server running but
 * not yet connected to it was not seen, and its first query met a stopped server.
 *
 * `again`: the server this process used has gone, and only an existing cluster may be started: a
 * home removed meanwhile must not come back as an empty new store.
 */
async function attach(home: string, again = false): Promise<Attachment> {
  await makeStoreDir(home, `the store's home ${home}`, 'set ASTORE_HOME to a writable directory (or DATABASE_URL / --postgres to use another PostgreSQL)');
  // Credentials, initdb and start under the home's lock; a process that waited for it finds the
  // server the other started and attaches to it. Bringing a server back waits for the lock only
  // briefly and tries again later, so that closing meanwhile is not held up for long.
  return withHomeLock(home, async () => {
    // Under the lock, as initdb runs under it: checked before it, another process could set up a new home meanwhile.
    if (again && !(existsSync(join(home, 'pg', 'PG_VERSION')) && existsSync(join(home, 'postgres.yaml')))) {
      throw new AppError('EMBEDDED_PG_GONE', `the embedded PostgreSQL's data in ${home} is gone`);
    }
    const creds = await embeddedCredentials(home);
    const cluster = await startCluster({
      dataDir: join(home, 'pg'), password: creds.su_password, port: creds.port || 0, logFile: join(home, 'postgres.log'),
    });
    if (cluster.port !== creds.port) {
      await writeAtomic(join(home, 'postgres.yaml'), formatPostgresYaml({ ...creds, port: cluster.port }), 0o600);
    }
    const presence = new pg.Client({ connectionString: cluster.url('postgres'), application_name: sessionName(PRESENCE_ROLE) });
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
    const ended = new Promise<void>((resolve) => presence.once('end', () => resolve()));
    let systemId: string;
    try {
      systemId = (await presence.query<{ id: string }>('select system_identifier::text as id from pg_control_system()')).rows[0]!.id;
    } catch (err) {
      await presence.end().catch(() => {});
      if (cluster.owned) await cluster.stop().catch(() => {});
      throw err;
    }
    return {
      cluster, presence, ended, systemId,
      connection: { host: '127.0.0.1', port: cluster.port, database: creds.database, user: creds.su_username, password: creds.su_password },
    };
  }, again ? RETRY_LOCK_WAIT_MS : undefined);
}

/**
 * Ends this process's use of the server (its presence session, when `presence` is given) and stops
 * the server unless another process uses it, whichever process started it: the last one out stops
 * it. Before, only the starter did, and a server whose starter had gone first (serve ended while a
 * command ran) ran on with nobody to stop it. Done under the home's lock, so that no process is
 * between finding the server and connecting to it, and closing processes are seen one at a time
 * (each ends its presence under the lock, so the next one sees it gone). A lock that cannot be had
 * leaves the server running: stopping it under a process that is attaching would be worse.
 */
async function leaveServer(home: string, cluster: RunningCluster, presence?: pg.Client): Promise<void> {
  let locked = false;
  try {
    await withHomeLock(home, async () => {
      locked = true;
      await presence?.end().catch(() => {});
      await cluster.stopUnlessShared();
    }, STOP_LOCK_WAIT_MS);
  } catch (err) {
    if (locked) throw err;
    await presence?.end().catch(() => {});
    if ((err as AppError).code === 'EMBEDDED_PG_BUSY') { cluster.detach(); return; }
    // The lock file cannot be made (the home was removed or made read-only): no process can be
    // attaching through this home either, and a server left running would have no one to stop it.
    await cluster.stopUnlessShared();
  }
}

/** How long a closing process waits for the home's lock before leaving its server running. */
const STOP_LOCK_WAIT_MS = 30_000;

/** The first wait before bringing a lost server back, and the longest between two tries. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5_000;
const RETRY_LOCK_WAIT_MS = 5_000;

export interface EmbeddedHold {
  readonly home: string;
  /** Where the store's database is; a server brought back listens on the same port (postgres.yaml's). */
  readonly connection: PgConnection;
  /** The server attached to now: another one once a lost server was brought back. */
  readonly cluster: RunningCluster;
  /** Ends the presence session, then stops the server if nobody else uses it. */
  close(): Promise<void>;
  /** Stops the server if nobody else uses it; for an exit on a signal. */
  abandon(): Promise<void>;
  /** Ends the presence session and stops a server this process started, used or not: opening failed. */
  discard(): Promise<void>;
}

/** The loss of the server and its recovery, for the operator: a line on stderr. */
function say(line: string): void {
  process.stderr.write(`astore: ${line}\n`);
}

/**
 * Attaches to (or starts) the home's server. The caller's Database tracks the hold for signal
 * exits (owned.ts) from its opening on, so a server brought back is handed over to it at once.
 */
export async function holdEmbedded(home: string): Promise<EmbeddedHold> {
  let current = await attach(home);
  const first = current;
  let ending = false;
  const wake = new AbortController();
  let bringingBack: Promise<void> | undefined;

  const watch = (a: Attachment): void => {
    void a.ended.then(() => { if (!ending && current === a) bringingBack = bringBack(); });
  };
  /**
   * The server (or only this session: a backend killed, the postmaster recovering) found again.
   * Only the cluster and port this process's pool was made for will do: a home set up anew
   * meanwhile is another store, which its pool could not reach anyway.
   */
  const reattach = async (): Promise<Attachment> => {
    const next = await attach(home, true);
    if (next.systemId !== first.systemId || next.connection.port !== first.connection.port) {
      // Another store, which this process never used: only a server this call started is stopped.
      if (next.cluster.owned) await leaveServer(home, next.cluster, next.presence);
      else await next.presence.end().catch(() => {});
      throw new AppError('EMBEDDED_PG_REPLACED', `${home} now holds another PostgreSQL cluster (system ${next.systemId}, port ${next.connection.port}) than the one this process opened (system ${first.systemId}, port ${first.connection.port})`, {
        hint: 'the home was set up again while this process ran: restart it to use the new one, or put the old home back',
      });
    }
    // The same postmaster as before: the handle that started it is kept, as only it can let go of
    // its child process when leaving the server to others (a found one's detach cannot).
    return next.cluster.pid === current.cluster.pid ? { ...next, cluster: current.cluster } : next;
  };
  const bringBack = async (): Promise<void> => {
    const since = Date.now();
    say(`lost the session on the embedded PostgreSQL in ${home}; attaching again (or starting it again)`);
    let lastError = '';
    for (let wait = RETRY_FIRST_MS, tries = 0; !ending; wait = Math.min(wait * 2, RETRY_MAX_MS)) {
      await sleep(wait, undefined, { signal: wake.signal }).catch(() => {});
      if (ending) return;
      try {
        current = await reattach();
      } catch (err) {
        // Still starting (crash recovery), the port still taken, the home gone: tried again. A
        // new reason is said at once, the same one every 40 s or so.
        const reason = (err as Error).message;
        if (reason !== lastError || ++tries % 8 === 0) say(`the embedded PostgreSQL is not back yet: ${reason}`);
        lastError = reason;
        continue;
      }
      watch(current);
      current.cluster.handOver();
      say(`the embedded PostgreSQL is back after ${((Date.now() - since) / 1000).toFixed(1)} s (${current.cluster.owned ? 'started by this process' : 'another process\'s'}, pid ${current.cluster.pid})`);
      return;
    }
  };
  // Stops bringing the server back, and waits for an attempt under way: its server is then the one to stop.
  const stopWatching = async (): Promise<void> => {
    ending = true;
    wake.abort();
    await bringingBack;
  };

  watch(current);
  return {
    home, connection: first.connection,
    get cluster() { return current.cluster; },
    async close() {
      await stopWatching();
      await leaveServer(home, current.cluster, current.presence);
    },
    async abandon() {
      // The presence session stays open (it is this process's own): the exit ends it.
      await stopWatching();
      await leaveServer(home, current.cluster);
    },
    async discard() {
      await stopWatching();
      await current.presence.end().catch(() => {});
      if (current.cluster.owned) await current.cluster.stop().catch(() => {});
    },
  };
}
