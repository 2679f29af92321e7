/**
 * One backup of the whole store database into a file (atomically), a stream, or a device or
 * named pipe given as the file (see the store's outputTarget), recording the facts a restore
 * checks — schema release and encryption-key fingerprint, as the database holds them — in the
 * archive's metadata.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { PgConnection } from '../config/index.ts';
import { openArchive } from '../archive/index.ts';
import { AppError } from '../errors/index.ts';
import { makeDir, outputFile, schemaRelease, STORE_SCHEMA } from '../store/index.ts';
import { AtomicFile } from './atomic-file.ts';
import { sha256File } from './catalog.ts';
import { storeDumpEngine, type DumpEngine } from './engine.ts';

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
  /** Present for stream outputs and when `checksum` was asked for. */
  sha256: string | undefined;
  tables: number | undefined;
  rows: number | undefined;
  durationMs: number;
}

export interface TakeBackupOptions {
  connection: PgConnection;
  facts: StoreFacts;
  /** A file path (written atomically) or a stream such as stdout. */
  output: string | Writable;
  /** Recorded in the archive metadata beside the store facts. */
  instance?: string | undefined;
  engine?: DumpEngine | undefined;
  /** Hash a file output (reads it back once); stream outputs are always hashed on the way. */
  checksum?: boolean;
  onProgress?: ((bytes: number) => void) | undefined;
  /** Runs after the archive is complete, checked and fsynced, before it takes its final name. */
  beforeRename?: ((summary: BackupSummary) => Promise<void>) | undefined;
}

/** Counts and hashes the bytes passing through to a stream output. */
class Meter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    cb(null, chunk);
  }
  digest(): string { return this.hash.digest('hex'); }
}

/** Reads the archive header and TOC back: a file that does not parse is never renamed into place. */
async function checkArchive(path: string): Promise<void> {
  let entries = 0;
  try {
    const reader = await openArchive(path);
    entries = reader.entries.length;
    await reader.close();
  } catch (err) {
    throw new AppError('BACKUP_UNREADABLE', `the archive just written does not read back: ${(err as Error).message}`, { exitCode: 1, cause: err });
  }
  if (entries === 0) throw new AppError('BACKUP_EMPTY', 'the archive just written has no entries', { exitCode: 1 });
}

export async function takeBackup(opts: TakeBackupOptions): Promise<BackupSummary> {
  const started = Date.now();
  const engine = opts.engine ?? storeDumpEngine;
  const metadata = {
    producer: 'astore backup', schema_release: opts.facts.release ?? null, key_fingerprint: opts.facts.keyFingerprint ?? null,
    instance: opts.instance ?? null, taken_at: new Date(started).toISOString(),
  };
  const summarize = (stats: { tables: number | undefined; rows: number | undefined }, bytes: number, sha256: string | undefined): BackupSummary => ({
    file: typeof opts.output === 'string' ? opts.output : null, bytes, sha256,
    tables: stats.tables, rows: stats.rows, durationMs: Date.now() - started, ...opts.facts,
  });

  const toStream = async (output: Writable, end: boolean): Promise<BackupSummary> => {
    const meter = new Meter();
    // A failed engine must also fail the write side, or the pipeline would wait for data forever.
    const dump = engine({ connection: opts.connection, output: meter, metadata, onProgress: opts.onProgress })
      .catch((err: unknown) => { meter.destroy(err as Error); throw err; });
    const [stats] = await Promise.all([dump, pipeline(meter, output, { end })]);
    return summarize(stats, meter.bytes, meter.digest());
  };
  // stdout is left open: the CLI may write its summary there.
  if (typeof opts.output !== 'string') return toStream(opts.output, false);
  // A device or named pipe is written into, a link's target replaced (see the store's outputTarget).
  const target = await outputFile(opts.output, { code: 'BACKUP_TARGET_INVALID', what: 'the backup', file: 'the backup file', option: '-o', example: 'store.dump' });
  if (target.kind === 'stream') return toStream(createWriteStream(target.path), true);

  await makeDir(dirname(target.path)).catch((err: Error) => {
    throw new AppError('BACKUP_DIR_UNUSABLE', `cannot create directory ${dirname(target.path)} for the backup: ${err.message}`, {
      hint: 'write the backup (-o FILE) into a directory you can create and write', exitCode: 1, cause: err,
    });
  });
  const file = new AtomicFile(target.path);
  try {
    const stats = await engine({ connection: opts.connection, output: file.tempPath, metadata, onProgress: opts.onProgress });
    await checkArchive(file.tempPath);
    const { size } = await stat(file.tempPath);
    const summary = summarize(stats, size, opts.checksum ? await sha256File(file.tempPath) : undefined);
    await file.commit(opts.beforeRename ? () => opts.beforeRename!(summary) : undefined).catch((err: NodeJS.ErrnoException) => {
      if (err.syscall !== 'rename') throw err;
      throw new AppError('BACKUP_WRITE_FAILED', `cannot put the backup in place as ${target.path}: ${err.message}`, {
        // A directory made there while the dump ran (one there before is refused up front).
        hint: err.code === 'EISDIR' || err.code === 'ENOTEMPTY' || err.code === 'EEXIST'
          ? `${target.path} is a directory: give the backup file's own name (-o DIR/store.dump)`
          : `check that ${dirname(target.path)} is writable; nothing was written as a complete backup`,
        exitCode: 1, cause: err,
      });
    });
    summary.durationMs = Date.now() - started;
    return summary;
  } catch (err) {
    await file.abort();
    throw err;
  }
}
