/**
 * dumpDatabase: a complete custom-format archive of a live database, written through the archive
 * writer, from ONE consistent snapshot.
 *
 * Everything — catalog reads and every COPY — runs on a single connection inside one
 * REPEATABLE READ, READ ONLY transaction, so rows committed by other sessions during the dump are
 * simply invisible to it. Parallelism comes from compression (zlib pieces deflated on the thread
 * pool while the next COPY bytes arrive), not from extra connections; the transaction still
 * exports its snapshot (`pg_export_snapshot()`), reported in the summary, so any helper connection
 * added later can join exactly the same view with SET TRANSACTION SNAPSHOT.
 */
import { rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import pg from 'pg';
import { AppError, isAppError, toError } from '../errors/index.ts';
import { ArchiveWriter, BufferPool, type ArchiveMetadata } from '../archive/index.ts';
import { copyTextFromBinary } from './binary-copy.ts';
import { CopyOut } from './copy-out.ts';
import { planDump } from './schema.ts';
import { refuseUnsupported, userNamespace } from './unsupported.ts';

export interface DumpProgress {
  /** Table being copied (`schema.name`). */
  table: string;
  tableIndex: number;
  tableCount: number;
  /** Rows copied so far, all tables. */
  rows: number;
  /** COPY text bytes read from the server so far. */
  rawBytes: number;
  /** Archive bytes written so far. */
  archiveBytes: number;
}

export interface DumpOptions {
  connectionString: string;
  ssl?: pg.ClientConfig['ssl'];
  /** File path (data offsets are filled in) or a writable stream such as stdout. */
  output: string | Writable;
  /** 0 = none, -1 = zlib default, 1–9. Default -1. */
  compressionLevel?: number;
  /** zlib strategy (see ArchiveWriterOptions.zlibStrategy). Default 'default'. */
  zlibStrategy?: 'default' | 'filtered';
  /** Caller-defined facts recorded in the archive (read back with readArchiveMetadata). */
  metadata?: ArchiveMetadata;
  onProgress?: (p: DumpProgress) => void;
  /** fsync a file output before returning. */
  fsync?: boolean;
  /** Pieces compressed concurrently (default 3). */
  parallelism?: number;
  /** Schemas whose names start with one of these are neither dumped nor checked. */
  skipSchemaPrefixes?: readonly string[];
  /** The connection's application_name (default 'astore dump'). */
  applicationName?: string;
}

export interface DumpSummary {
  database: string;
  serverVersion: string;
  snapshot: string;
  tables: Array<{ schema: string; name: string; rows: number; rawBytes: number; storedBytes: number }>;
  rows: number;
  rawBytes: number;
  /** Size of the archive. */
  bytes: number;
  entries: number;
  durationMs: number;
}

/** Counts COPY rows by their terminating newlines (a newline inside a value is always escaped). */
function countNewlines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}

export async function dumpDatabase(options: DumpOptions): Promise<DumpSummary> {
  const started = Date.now();
  const client = new pg.Client({ connectionString: options.connectionString, ssl: options.ssl, application_name: options.applicationName ?? 'astore dump' });
  // A lost connection also fails the query in progress, which is where the dump reports it; without
  // a listener the client's 'error' event would crash the process instead (as when a failed output
  // makes the dump close its connection in the middle of COPY).
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new AppError('DUMP_CONNECT_FAILED', `cannot connect to the database to dump it: ${toError(err).message}`, { cause: err, exitCode: 1 });
  }
  let writer: ArchiveWriter | undefined;
  let failed = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    // Output formats that make COPY text and catalog text reproducible: qualified names, exact floats.
    await client.query(`SELECT pg_catalog.set_config('search_path', '', true), pg_catalog.set_config('extra_float_digits', '3', true),
      pg_catalog.set_config('DateStyle', 'ISO', true), pg_catalog.set_config('IntervalStyle', 'postgres', true),
      pg_catalog.set_config('statement_timeout', '0', true), pg_catalog.set_config('idle_in_transaction_session_timeout', '0', true)`);
    const info = (await client.query<{ db: string; version: string; snapshot: string }>(
      `SELECT current_database() AS db, current_setting('server_version') AS version, pg_export_snapshot() AS snapshot`)).rows[0]!;
    const namespace = userNamespace(options.skipSchemaPrefixes);
    await refuseUnsupported(client, namespace);
    const plan = await planDump(client, options.metadata, namespace);

    // COPY output is read into 1 MiB pieces that go round this pool through the compressor.
    const pool = new BufferPool(1024 * 1024);
    writer = await ArchiveWriter.create({
      output: options.output, entries: plan.entries, compressionLevel: options.compressionLevel ?? -1, dbname: info.db,
      serverVersion: info.version, dumperVersion: `astore dump (${info.version} server)`, parallelism: options.parallelism,
      zlibStrategy: options.zlibStrategy, fsync: options.fsync, pool,
    });
    const tables: DumpSummary['tables'] = [];
    let rows = 0;
    let rawBytes = 0;
    for (const [index, t] of plan.tables.entries()) {
      const name = `${t.schema}.${t.name}`;
      let tableRows = 0;
      const w = writer;
      const text: AsyncIterable<Buffer> = t.binary
        ? copyTextFromBinary(client.query(new CopyOut(t.binary.copyOut, pool)), t.binary.bytea, pool)
        : client.query(new CopyOut(t.copyOut, pool));
      const counted = (async function* () {
        for await (const chunk of text) {
          const n = countNewlines(chunk);
          tableRows += n; rows += n; rawBytes += chunk.length;
          options.onProgress?.({ table: name, tableIndex: index, tableCount: plan.tables.length, rows, rawBytes, archiveBytes: w.bytesWritten });
          yield chunk;
        }
      })();
      const stats = await writer.writeTableData(t.dumpId, counted);
      tables.push({ schema: t.schema, name: t.name, rows: tableRows, rawBytes: stats.rawBytes, storedBytes: stats.storedBytes });
    }
    const result = await writer.finish();
    await client.query('COMMIT');
    return {
      database: info.db, serverVersion: info.version, snapshot: info.snapshot, tables, rows, rawBytes, bytes: result.bytes,
      entries: plan.entries.length, durationMs: Date.now() - started,
    };
  } catch (err) {
    failed = true;
    await writer?.abort().catch(() => undefined);
    // A partial file must never look like a backup.
    if (writer && typeof options.output === 'string') await rm(options.output, { force: true }).catch(() => undefined);
    if (isAppError(err)) throw err;
    throw new AppError('DUMP_FAILED', `dump failed: ${toError(err).message}`, { cause: err, exitCode: 1 });
  } finally {
    if (failed) await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
