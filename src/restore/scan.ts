/**
 * What a restore learns from an archive before it touches the target: the store tables, the
 * schema release (from the archive's own schema_migrations rows, which stock pg_dump archives
 * have too), the encryption-key fingerprint and the backed-up instances — either by reading the
 * whole archive (scanArchive: structure, decompression, every COPY row counted) or by a
 * preflight that reads only the TOC and those small tables (preflightArchive), after which the
 * load verifies the bulk data as it streams it.
 */
import { stat } from 'node:fs/promises';
import { OFFSET_SET, openArchive, type ArchiveReader, type CopyValue, type DataBlock, type TocEntry } from '../archive/index.ts';
import { UUID } from '../auth/index.ts';
import { AppError } from '../errors/index.ts';
import { MIGRATIONS, STORE_SCHEMA } from '../store/index.ts';
import { requireStoreData } from './tables.ts';

export interface ArchiveTable {
  name: string;
  columns: string[];
  /** Rows in the archive; undefined until the table's data has been read. */
  rows: number | undefined;
}

export interface SourceInstance { id: string; name: string; workspaces: number }

export interface ArchiveSummary {
  file: string;
  bytes: number;
  release: string;
  fingerprint: string | undefined;
  tables: Map<string, ArchiveTable>;
  instances: SourceInstance[];
  /** True when every store table's data was read (scanArchive); false after a preflight, whose load verifies the rest. */
  verified: boolean;
  /** Which file the archive is (device, inode, size, mtime) and its TOC, for the load to check it reads the same one. */
  identity: string;
}

export type ProgressFn = (p: { bytes: number; totalBytes: number; rows: number; phase: string }) => void;

/**
 * From the encrypted-secrets migration on a store's data holds ciphertext and its store_meta says
 * under which key; an archive of such a schema without the fingerprint has lost that row, and the
 * key check would pass anything. (An archive without store_meta's data at all is refused by the
 * completeness check; this is the one whose store_meta lacks the row.)
 */
const ENCRYPTED_SECRETS_MIGRATION = MIGRATIONS.find((m) => m.name === 'encrypted-secrets')!.id;

/** Tables decoded row by row for the summary; all others are only counted. */
const DECODED = new Set(['schema_migrations', 'store_meta', 'instances', 'workspaces']);

/** `COPY astore.t (a, b) FROM stdin;` → ['a', 'b'] (identifiers as pg_dump quotes them). */
export function copyColumns(entry: TocEntry): string[] {
  const m = /^COPY\s+.+?\s+\((.*)\)\s+FROM\s+stdin;?\s*$/is.exec(entry.copyStmt ?? '');
  if (!m) {
    throw new AppError('ARCHIVE_UNEXPECTED', `table data of ${entry.namespace}.${entry.tag} has no COPY statement with a column list`, {
      hint: 'use an archive made by `pg_dump -Fc` or `astore backup`', exitCode: 2,
    });
  }
  // Checked here because the load writes them into its own COPY statement: an archive could
  // otherwise append SQL to the column list and have it run on the target.
  return m[1]!.split(',').map((c) => {
    const name = c.trim();
    const plain = /^[a-z_][a-z0-9_$]*$/.exec(name)?.[0] ?? /^"((?:[^"]|"")+)"$/.exec(name)?.[1]?.replace(/""/g, '"');
    if (plain === undefined) {
      throw new AppError('ARCHIVE_UNEXPECTED', `table data of ${entry.namespace}.${entry.tag} names a column ${JSON.stringify(name.slice(0, 80))} in its COPY statement, which is not a column name`, {
        hint: 'nothing was changed in the target; the archive was not written by pg_dump or astore backup, or has been tampered with', exitCode: 2,
      });
    }
    return plain;
  });
}

export function isStoreTableData(e: TocEntry): boolean {
  return e.desc === 'TABLE DATA' && e.namespace === STORE_SCHEMA && e.tag !== null;
}

/**
 * Counts COPY lines as the payload streams by; the `\.` end marker is not a row. It looks at two
 * bytes per line and creates no strings: this loop sees every byte of the archive.
 */
export class RowCounter {
  rows = 0;
  private ended = false;
  // The current line: its length so far and its first two bytes, enough to recognise `\.`.
  private length = 0;
  private first = -1;
  private second = -1;

  constructor(private readonly table: string) {}

  private isEndMarker(): boolean { return this.length === 2 && this.first === 0x5c && this.second === 0x2e; }

  /**
   * Counts the rows in `chunk` and returns how many of its bytes are COPY data: all of them, up to
   * and including the end-marker line, or none once the marker has passed (what follows it is
   * ignored, as COPY ignores it).
   */
  feed(chunk: Buffer): number {
    if (this.ended) { this.checkTrailing(chunk, 0); return 0; }
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl < 0 ? chunk.length : nl;
      if (this.length === 0 && end > pos) this.first = chunk[pos]!;
      if (this.length <= 1 && end > pos + 1 - this.length) this.second = chunk[pos + 1 - this.length]!;
      this.length += end - pos;
      if (nl < 0) return chunk.length;
      if (this.isEndMarker()) { this.ended = true; this.checkTrailing(chunk, nl + 1); return nl + 1; }
      this.rows++;
      this.length = 0;
      pos = nl + 1;
    }
  }

  /**
   * pg_dump and astore backup end every payload with the marker and blank lines: rows after the
   * marker would be dropped without a word (COPY stops there), so they are damage.
   */
  private checkTrailing(chunk: Buffer, from: number): void {
    for (let i = from; i < chunk.length; i++) {
      if (chunk[i] !== 0x0a) throw this.invalid('has data after its \\. end marker');
    }
  }

  /**
   * The row count once the payload has ended. Every payload ends with the marker, so one without
   * it was cut short (or made by hand): restoring it would keep the rows before the cut only.
   */
  finish(): number {
    if (!this.ended && this.length > 0 && !this.isEndMarker()) throw this.invalid('ends in the middle of a row');
    if (!this.ended && !this.isEndMarker()) throw this.invalid('has no \\. end marker: it was cut short');
    return this.rows;
  }

  private invalid(why: string): AppError {
    return new AppError('ARCHIVE_COPY_DATA_INVALID', `table data of ${this.table} ${why}`, {
      hint: 'nothing was changed in the target; use an intact copy of the archive', exitCode: 2,
    });
  }
}

/**
 * Passes a payload's COPY data through, counting its rows on the way. What follows the end
 * marker (pg_dump writes a blank line after it) is read but not passed on: the load splits the
 * data over several COPYs, and a stray newline on a connection that saw no marker would be a row.
 */
export async function* counted(chunks: AsyncIterable<Buffer>, counter: RowCounter): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    const data = counter.feed(chunk);
    if (data > 0) yield data === chunk.length ? chunk : chunk.subarray(0, data);
  }
}

/** Decompresses a block only to count (and so verify) its rows. */
export async function countRows(block: DataBlock): Promise<number> {
  const counter = new RowCounter(block.entry.tag ?? String(block.dumpId));
  for await (const chunk of block.payload()) counter.feed(chunk);
  return counter.finish();
}

/** What the decoded tables say: the archive's schema migrations, key fingerprint and instances. */
class Collector {
  readonly migrationIds: number[] = [];
  fingerprint: string | undefined;
  readonly instances = new Map<string, SourceInstance>();
  private readonly workspaceInstance: string[] = [];

  async read(block: DataBlock, table: ArchiveTable): Promise<number> {
    const col = (name: string): number => table.columns.indexOf(name);
    let rows = 0;
    for await (const batch of block.rows({ batchSize: 1000 })) {
      for (const row of batch) this.collect(table.name, row, col);
      rows += batch.length;
    }
    return rows;
  }

  private collect(name: string, row: CopyValue[], col: (c: string) => number): void {
    // The preflight reads these rows before PostgreSQL has seen any of them: a value that is
    // missing, null or malformed is damage to report, not a TypeError to crash on.
    const value = (column: string, check: RegExp): string => {
      const v = col(column) < 0 ? undefined : row[col(column)];
      if (typeof v !== 'string' || !check.test(v)) {
        throw new AppError('ARCHIVE_INCONSISTENT', `a row of ${STORE_SCHEMA}.${name} in the archive has ${v === undefined ? `no ${column} column` : `an invalid ${column} (${JSON.stringify(v === null ? null : String(v).slice(0, 40))})`}`, {
          hint: 'nothing was changed in the target; use an intact backup', exitCode: 2,
        });
      }
      return v;
    };
    if (name === 'schema_migrations') this.migrationIds.push(Number(value('id', /^\d{1,9}$/)));
    else if (name === 'store_meta' && row[col('key')] === 'encryption_key_fingerprint') {
      const v = row[col('value')] ?? null;
      this.fingerprint = v === null ? undefined : String(JSON.parse(value('value', /^"[0-9a-zA-Z:_-]*"$/)));
    } else if (name === 'instances') {
      const id = value('id', UUID).toLowerCase();
      this.instances.set(id, { id, name: row[col('name')] ?? '', workspaces: 0 });
    } else if (name === 'workspaces') this.workspaceInstance.push(value('instance_id', UUID).toLowerCase());
  }

  summary(reader: ArchiveReader, file: string, tables: Map<string, ArchiveTable>, verified: boolean): ArchiveSummary {
    const bytes = reader.size ?? 0;
    for (const id of this.workspaceInstance) {
      const i = this.instances.get(id);
      if (!i) {
        throw new AppError('ARCHIVE_INCONSISTENT', `the archive has a workspace of instance ${id}, which is not among its instances`, { hint: 'use an intact backup', exitCode: 2 });
      }
      i.workspaces++;
    }
    if (this.migrationIds.length === 0) {
      throw new AppError('ARCHIVE_NOT_A_STORE', `${file} has an empty ${STORE_SCHEMA}.schema_migrations table`, { exitCode: 2 });
    }
    const last = Math.max(...this.migrationIds);
    const release = MIGRATIONS.find((m) => m.id === last)?.release;
    if (!release) {
      throw new AppError('UPGRADE_PATH_UNSUPPORTED', `the backup's schema has migration ${last}, which this store release does not know`, {
        hint: 'restore it with the store release that made the backup, or a newer one', exitCode: 4,
      });
    }
    if (this.fingerprint === undefined && this.migrationIds.includes(ENCRYPTED_SECRETS_MIGRATION)) {
      throw new AppError('ARCHIVE_INCOMPLETE', `${file} is of schema release ${release}, which records its encryption-key fingerprint, but holds none in ${STORE_SCHEMA}.store_meta`, {
        hint: 'without it pgmig cannot check that the target has the key the backup\'s secrets are encrypted with; nothing was changed in the target; restore from a full backup (`astore backup` or plain `pg_dump -Fc`)',
        exitCode: 2,
      });
    }
    return { file, bytes, release, fingerprint: this.fingerprint, tables, instances: [...this.instances.values()], verified, identity: archiveIdentity(reader) };
  }
}

/** Which file (device, inode, size, mtime) and TOC an open archive is: unequal once it was replaced or rewritten. */
export function archiveIdentity(reader: ArchiveReader): string {
  return `${reader.fileIdentity ?? 'stream'}|${reader.entries.map((e) => `${e.dumpId}:${e.offsetFlag}:${e.dataOffset}`).join(',')}`;
}

/**
 * pgmig reads its source more than once (a check, then the load): it must be a regular file. A
 * path that cannot be stat'ed passes here and gets openArchive's own not-found/unreadable error.
 */
export async function requireRegularFile(file: string): Promise<void> {
  if (file !== '-') {
    const st = await stat(file).catch(() => undefined);
    if (!st || st.isFile()) return;
  }
  throw new AppError('ARCHIVE_NOT_A_FILE', `${file === '-' ? 'standard input' : file} is not a regular file: pgmig reads the archive more than once (a check before it touches the target, then the load)`, {
    hint: 'save the archive to a file first and pass that file with -s', exitCode: 2,
  });
}

/**
 * The store tables an archive holds data for; refuses an archive that is not of a store, and one
 * that defines a store table the restore takes from it without that table's data
 * (`pg_dump --exclude-table-data`). Tables it does not define at all (`pg_dump -t`, `-T`) are
 * found by the load, with the same check, once it has built the schema of the archive's release.
 */
function storeTables(reader: ArchiveReader, file: string): Map<string, ArchiveTable> {
  const tables = new Map<string, ArchiveTable>();
  for (const e of reader.entries) {
    if (!isStoreTableData(e)) continue;
    // pg_dump writes one per table; loading a second one would add its rows again.
    if (tables.has(e.tag!)) {
      throw new AppError('ARCHIVE_INCONSISTENT', `${file} has two TABLE DATA entries for ${STORE_SCHEMA}.${e.tag!}: restoring it would load the table's rows twice`, {
        hint: 'the archive was not written by pg_dump or astore backup, or was altered; `astore archive verify` lists its defects; use an intact backup', exitCode: 2,
      });
    }
    tables.set(e.tag!, { name: e.tag!, columns: copyColumns(e), rows: undefined });
  }
  if (!tables.has('schema_migrations')) {
    throw new AppError('ARCHIVE_NOT_A_STORE', `${file} holds no table data of ${STORE_SCHEMA}.schema_migrations: it is not a backup of a store database`, {
      hint: 'back up the store with `astore backup` or `pg_dump -Fc` of the whole store database', exitCode: 2,
    });
  }
  const defined = reader.entries.filter((e) => e.desc === 'TABLE' && e.namespace === STORE_SCHEMA && e.tag !== null).map((e) => e.tag!);
  requireStoreData(file, defined, tables);
  return tables;
}

/** Reads the whole archive: every store table's data is decompressed and its rows counted. */
export async function scanArchive(file: string, progress?: ProgressFn): Promise<ArchiveSummary> {
  const reader = await openArchive(file);
  const totalBytes = reader.size ?? 0;
  let tables: Map<string, ArchiveTable>;
  try {
    tables = storeTables(reader, file);
  } catch (err) {
    await reader.close();
    throw err;
  }
  const collector = new Collector();
  let totalRows = 0;
  for await (const block of reader.blocks()) {
    const e = block.entry;
    if (!isStoreTableData(e)) continue;
    const table = tables.get(e.tag!)!;
    table.rows = DECODED.has(table.name) ? await collector.read(block, table) : await countRows(block);
    totalRows += table.rows;
    progress?.({ bytes: reader.offset, totalBytes, rows: totalRows, phase: 'verify' });
  }
  return collector.summary(reader, file, tables, true);
}

/**
 * What a restore needs before it touches the target, without reading the bulk data: the TOC,
 * that every data block the TOC places lies inside the file, and the small tables the summary
 * comes from, read by their offsets. The rest of the data (decompression, row structure, row
 * counts) is verified by the load as it streams into the staging schema, so the archive is
 * decompressed once instead of twice. An archive without data offsets (written to a pipe) is
 * scanned whole instead.
 */
export async function preflightArchive(file: string, progress?: ProgressFn): Promise<ArchiveSummary> {
  const reader = await openArchive(file);
  try {
    const tables = storeTables(reader, file);
    const size = reader.size;
    const withData = reader.entries.filter((e) => e.hadDumper);
    if (size === undefined || withData.some((e) => e.offsetFlag !== OFFSET_SET)) {
      await reader.close();
      return await scanArchive(file, progress);
    }
    for (const e of withData) reader.checkDataOffset(e);
    const collector = new Collector();
    for (const e of withData) {
      const table = isStoreTableData(e) ? tables.get(e.tag!) : undefined;
      if (!table || !DECODED.has(table.name)) continue;
      table.rows = await reader.readBlockAt(e, (block) => collector.read(block, table));
    }
    return collector.summary(reader, file, tables, false);
  } finally {
    await reader.close();
  }
}
