/**
 * What produces the archive bytes. The default engine is the store's own dumper (src/dump): one
 * REPEATABLE READ snapshot, parallel compression, and the store facts recorded as archive
 * metadata. `pgDumpEngine` (stock `pg_dump -Fc`) is the reference the benchmark compares against
 * and the fallback for databases the dumper refuses (store.backup.engine: pg_dump). The engine is a
 * parameter so the scheduler and retention do not depend on how an archive is made.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { connectionUrl, type PgConnection } from '../config/index.ts';
import { dumpDatabase, type ArchiveMetadata } from '../dump/index.ts';
import { AppError, isAppError } from '../errors/index.ts';
import { STAGING_PREFIX } from '../restore/index.ts';
import { sessionName } from '../store/index.ts';
import type { BackupEngineName } from './settings.ts';

export interface DumpStats { tables: number | undefined; rows: number | undefined }

export interface DumpRequest {
  connection: PgConnection;
  /** A file path (the engine creates it) or a stream to write into and end. */
  output: string | Writable;
  metadata: ArchiveMetadata;
  onProgress?: ((bytes: number) => void) | undefined;
}

export type DumpEngine = (req: DumpRequest) => Promise<DumpStats>;

/**
 * Backups compress at zlib level 5 with the 'filtered' strategy rather than pg_dump's level 6:
 * on the store's COPY text (hex-encoded model bytea, example text, ids) it deflates about 20%
 * faster and the archive comes out no larger than `pg_dump -Fc` of the same database (bench:backup
 * checks both). The archive reads exactly the same either way.
 */
const BACKUP_LEVEL = 5;

/*
 * Both engines leave out pgmig's staging schemas: a restore in progress, or one a killed pgmig left
 * behind, is a full copy of some backup's data and never part of the store.
 */

export const storeDumpEngine: DumpEngine = async ({ connection, output, metadata, onProgress }) => {
  try {
    const s = await dumpDatabase({
      connectionString: connectionUrl(connection), ssl: connection.ssl, output, metadata,
      compressionLevel: BACKUP_LEVEL, zlibStrategy: 'filtered', skipSchemaPrefixes: [STAGING_PREFIX], applicationName: sessionName('astore dump'),
      onProgress: onProgress ? (p) => onProgress(p.archiveBytes) : undefined,
    });
    return { tables: s.tables.length, rows: s.rows };
  } catch (err) {
    // The dumper only knows what it refused; the backup knows the way round it.
    if (isAppError(err) && err.code === 'DUMP_UNSUPPORTED_OBJECT') {
      throw new AppError(err.code, err.message, {
        hint: 'remove or move these objects out of the store database, or back it up with stock pg_dump, which dumps them too: '
          + 'set store.backup.engine: pg_dump in config.yaml (or STORE_BACKUP_ENGINE=pg_dump); nothing was written as a complete backup',
        exitCode: err.exitCode, details: err.details, cause: err,
      });
    }
    throw err;
  }
};

function libpqEnv(c: PgConnection): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PGPASSWORD: c.password, PGAPPNAME: sessionName('pg_dump') };
  if (c.ssl) {
    env.PGSSLMODE = c.ssl.rejectUnauthorized === false ? 'require' : c.ssl.checkServerIdentity ? 'verify-ca' : 'verify-full';
    if (process.env.PG_CA_FILE) env.PGSSLROOTCERT = process.env.PG_CA_FILE;
  }
  return env;
}

export const pgDumpEngine: DumpEngine = async ({ connection: c, output }) => {
  const child = spawn('pg_dump', ['-Fc', '-h', c.host, '-p', String(c.port), '-U', c.user, '-d', c.database, '--no-password',
    `--exclude-schema=${STAGING_PREFIX}*`], {
    env: libpqEnv(c), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  // A missing pg_dump is an 'error' event, not an exit code; unhandled, it would crash the process.
  let spawnError: NodeJS.ErrnoException | undefined;
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => { spawnError = err; resolve([null, null]); });
    child.once('close', (code, signal) => resolve([code, signal]));
  });
  try {
    await pipeline(child.stdout, typeof output === 'string' ? createWriteStream(output, { flags: 'wx', mode: 0o600 }) : output);
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  const [code, signal] = await exited;
  if (spawnError) {
    throw new AppError('BACKUP_DUMP_FAILED', `pg_dump could not be started: ${spawnError.message}`, {
      hint: spawnError.code === 'ENOENT'
        ? 'install the PostgreSQL client tools (pg_dump, same major version as the server) on this machine, or set store.backup.engine back to builtin'
        : 'check that pg_dump can be run by this user',
      exitCode: 1,
    });
  }
  if (code !== 0) {
    // pg_dump refuses a server of a newer major version than its own (the store moved to 16, the
    // machine's client tools still 15): a common case after a PostgreSQL upgrade.
    const server = /server version: (\d+)/.exec(stderr)?.[1];
    throw new AppError('BACKUP_DUMP_FAILED', `pg_dump of ${c.database} on ${c.host}:${c.port} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`, {
      exitCode: 1,
      hint: /server version mismatch/.test(stderr)
        ? `install the PostgreSQL ${server ?? 'server\'s'} client tools (pg_dump ${server ?? 'of the server\'s major version'} or newer) on this machine, or set store.backup.engine back to builtin, which dumps any supported server`
        : undefined,
    });
  }
  return { tables: undefined, rows: undefined };
};

export function engineFor(name: BackupEngineName): DumpEngine {
  return name === 'pg_dump' ? pgDumpEngine : storeDumpEngine;
}
