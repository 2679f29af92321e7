/**
 * Preflight of an archive: reads it completely (structure, decompression, every COPY row) and
 * collects what the restore must know before touching the target — the store tables and their
 * row counts, the schema release (from the archive's own schema_migrations rows, which stock
 * pg_dump archives have too), the encryption-key fingerprint, and the backed-up instances.
 */
import { stat } from 'node:fs/promises';
import { openArchive, type CopyValue, type DataBlock, type TocEntry } from '../archive/index.ts';
import { AppError } from '../errors/index.ts';
import { MIGRATIONS, STORE_SCHEMA } from '../store/index.ts';

export interface ArchiveTable {
  name: string;
  columns: string[];
  rows: number;
}

export interface SourceInstance { id: string; name: string; workspaces: number }

export interface ArchiveSummary {
  file: string;
  bytes: number;
  release: string;
  fingerprint: string | undefined;
  tables: Map<string, ArchiveTable>;
  instances: SourceInstance[];
  totalRows: number;
}

export type ProgressFn = (p: { bytes: number; totalBytes: number; rows: number; phase: string }) => void;

/** Tables decoded row by row in the preflight; all others are only counted. */
const DECODED = new Set(['schema_migrations', 'store_meta', 'instances', 'workspaces']);

/** `COPY astore.t (a, b) FROM stdin;` → ['a', 'b'] (identifiers as pg_dump quotes them). */
export function copyColumns(entry: TocEntry): string[] {
  const m = /^COPY\s+.+?\s+\((.*)\)\s+FROM\s+stdin;?\s*$/is.exec(entry.copyStmt ?? '');
  if (!m) {
    throw new AppError('ARCHIVE_UNEXPECTED', `table data of ${entry.namespace}.${entry.tag} has no COPY statement with a column list`, {
      hint: 'use an archive made by `pg_dump -Fc` or `astore backup`', exitCode: 2,
    });
  }
  return m[1]!.split(',').map((c) => c.trim());
}

export function isStoreTableData(e: TocEntry): boolean {
  return e.desc === 'TABLE DATA' && e.namespace === STORE_SCHEMA && e.tag !== null;
}

/**
 * Counts COPY lines without decoding them; the `\.` end marker is not a row. It looks at two
 * bytes per line and creates no strings: this loop sees every byte of the archive.
 */
async function countRows(block: DataBlock): Promise<number> {
  let lines = 0;
  // The current line: its length so far and its first two bytes, enough to recognise `\.`.
  let length = 0;
  let first = -1;
  let second = -1;
  const isEndMarker = (): boolean => length === 2 && first === 0x5c && second === 0x2e;
  let done = false;
  for await (const chunk of block.payload()) {
    if (done) continue; // drain what follows the end marker
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl < 0 ? chunk.length : nl;
      if (length === 0 && end > pos) first = chunk[pos]!;
      if (length <= 1 && end > pos + 1 - length) second = chunk[pos + 1 - length]!;
      length += end - pos;
      if (nl < 0) break;
      if (isEndMarker()) { done = true; break; }
      lines++;
      length = 0;
      pos = nl + 1;
    }
  }
  if (!done && length > 0 && !isEndMarker()) {
    throw new AppError('ARCHIVE_COPY_DATA_INVALID', `table data of ${block.entry.tag} ends in the middle of a row`, { hint: 'use an intact copy of the archive', exitCode: 2 });
  }
  return lines;
}

export async function scanArchive(file: string, progress?: ProgressFn): Promise<ArchiveSummary> {
  const totalBytes = (await stat(file).catch(() => ({ size: 0 }))).size;
  const reader = await openArchive(file);
  const tables = new Map<string, ArchiveTable>();
  const migrationIds: number[] = [];
  let fingerprint: string | undefined;
  const instances = new Map<string, SourceInstance>();
  const workspaceInstance: string[] = [];
  let totalRows = 0;
  for (const e of reader.entries) {
    if (isStoreTableData(e)) tables.set(e.tag!, { name: e.tag!, columns: copyColumns(e), rows: 0 });
  }
  if (!tables.has('schema_migrations')) {
    await reader.close();
    throw new AppError('ARCHIVE_NOT_A_STORE', `${file} holds no table data of ${STORE_SCHEMA}.schema_migrations: it is not a backup of a store database`, {
      hint: 'back up the store with `astore backup` or `pg_dump -Fc` of the whole store database', exitCode: 2,
    });
  }
  for await (const block of reader.blocks()) {
    const e = block.entry;
    if (!isStoreTableData(e)) continue;
    const table = tables.get(e.tag!)!;
    if (DECODED.has(table.name)) {
      const col = (name: string): number => table.columns.indexOf(name);
      for await (const batch of block.rows({ batchSize: 1000 })) {
        for (const row of batch) collect(table.name, row, col);
        table.rows += batch.length;
      }
    } else {
      table.rows = await countRows(block);
    }
    totalRows += table.rows;
    progress?.({ bytes: reader.offset, totalBytes, rows: totalRows, phase: 'verify' });
  }

  function collect(name: string, row: CopyValue[], col: (c: string) => number): void {
    if (name === 'schema_migrations') migrationIds.push(Number(row[col('id')]));
    else if (name === 'store_meta' && row[col('key')] === 'encryption_key_fingerprint') {
      const v = row[col('value')] ?? null;
      fingerprint = v === null ? undefined : String(JSON.parse(v));
    } else if (name === 'instances') {
      const id = row[col('id')]!.toLowerCase();
      instances.set(id, { id, name: row[col('name')] ?? '', workspaces: 0 });
    } else if (name === 'workspaces') workspaceInstance.push(row[col('instance_id')]!.toLowerCase());
  }

  for (const id of workspaceInstance) {
    const i = instances.get(id);
    if (!i) {
      throw new AppError('ARCHIVE_INCONSISTENT', `the archive has a workspace of instance ${id}, which is not among its instances`, { hint: 'use an intact backup', exitCode: 2 });
    }
    i.workspaces++;
  }
  const last = Math.max(...migrationIds);
  const release = MIGRATIONS.find((m) => m.id === last)?.release;
  if (migrationIds.length === 0) {
    throw new AppError('ARCHIVE_NOT_A_STORE', `${file} has an empty ${STORE_SCHEMA}.schema_migrations table`, { exitCode: 2 });
  }
  if (!release) {
    throw new AppError('UPGRADE_PATH_UNSUPPORTED', `the backup's schema has migration ${last}, which this store release does not know`, {
      hint: 'restore it with the store release that made the backup, or a newer one', exitCode: 4,
    });
  }
  return { file, bytes: totalBytes, release, fingerprint, tables, instances: [...instances.values()], totalRows };
}
