/**
 * One backup of the whole store database into a file (atomically) or a stream, with the facts a
 * restore checks: the schema release and the encryption-key fingerprint the database records.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { PgConnection } from '../config/index.ts';
import { openArchive } from '../archive/index.ts';
import { AppError } from '../errors/index.ts';
import { schemaRelease, STORE_SCHEMA } from '../store/index.ts';
import { AtomicFile, Meter } from './atomic-file.ts';
import { pgDumpEngine, type DumpEngine } from './engine.ts';

export interface StoreFacts { release: string | undefined; keyFingerprint: string | undefined }

export async function readStoreFacts(pool: pg.Pool): Promise<StoreFacts> {
  const client = await pool.connect();
  try {
    const release = await schemaRelease(client, STORE_SCHEMA);
    const meta = await client.query(`select 1 from pg_tables where schemaname = $1 and tablename = 'store_meta'`, [STORE_SCHEMA]);
    const fp = meta.rowCount
      ? (await client.query<{ v: string }>(`select value #>> '{}' as v from "${STORE_SCHEMA}".store_meta where key = 'encryption_key_fingerprint'`)).rows[0]?.v
      : undefined;
    return { release, keyFingerprint: fp };
  } finally {
    client.release();
  }
}

export interface BackupSummary extends StoreFacts {
  file: string | null;
  bytes: number;
  sha256: string;
  tables: number | undefined;
  rows: number | undefined;
  durationMs: number;
}

export interface TakeBackupOptions {
  connection: PgConnection;
  facts: StoreFacts;
  /** A file path (written atomically) or a stream such as stdout. */
  output: string | Writable;
  engine?: DumpEngine | undefined;
  onProgress?: ((bytes: number) => void) | undefined;
  /** Runs after the archive is complete and fsynced, before it takes its final name. */
  beforeRename?: ((summary: BackupSummary, tempPath: string) => Promise<void>) | undefined;
}

/** Reads the archive header and TOC back: a file that does not parse is never renamed into place. */
async function checkArchive(path: string): Promise<void> {
  const reader = await openArchive(path);
  await reader.close();
  if (reader.entries.length === 0) {
    throw new AppError('BACKUP_EMPTY', `the archive written to ${path} has no entries`, { exitCode: 1 });
  }
}

export async function takeBackup(opts: TakeBackupOptions): Promise<BackupSummary> {
  const started = Date.now();
  const engine = opts.engine ?? pgDumpEngine;
  const meter = new Meter();
  if (opts.onProgress) {
    const report = opts.onProgress;
    meter.on('data', () => report(meter.bytes));
  }
  const summarize = (stats: { tables: number | undefined; rows: number | undefined }): BackupSummary => ({
    file: typeof opts.output === 'string' ? opts.output : null, bytes: meter.bytes, sha256: meter.digest(),
    tables: stats.tables, rows: stats.rows, durationMs: Date.now() - started, ...opts.facts,
  });
  // A failed engine must also fail the write side, or the pipeline would wait for data forever.
  const dump = (): Promise<{ tables: number | undefined; rows: number | undefined }> =>
    engine({ connection: opts.connection, sink: meter, onProgress: opts.onProgress }).catch((err: unknown) => {
      meter.destroy(err as Error);
      throw err;
    });
  if (typeof opts.output !== 'string') {
    const [stats] = await Promise.all([dump(), pipeline(meter, opts.output, { end: false })]);
    return summarize(stats);
  }
  await mkdir(dirname(opts.output), { recursive: true });
  const file = new AtomicFile(opts.output);
  try {
    const [stats] = await Promise.all([dump(), pipeline(meter, file.stream)]);
    const summary = summarize(stats);
    await checkArchive(file.tempPath);
    await file.commit(opts.beforeRename ? () => opts.beforeRename!(summary, file.tempPath) : undefined);
    summary.durationMs = Date.now() - started;
    return summary;
  } catch (err) {
    await file.abort();
    throw err;
  }
}
