/**
 * Full verification of an archive: reads every byte, decompresses every block, checks the COPY
 * payloads (row structure against the column list, end marker) and the TOC's internal references,
 * and totals rows and bytes per table. Any defect makes `ok` false; nothing is fixed up silently.
 */
import { isAppError, toError } from '../errors/index.ts';
import { openArchive, describeEntry, type ArchiveInput } from './reader.ts';
import { OFFSET_SET, versionText, type TocEntry } from './format.ts';

export interface TableReport {
  dumpId: number;
  schema: string | null;
  table: string | null;
  rows: number;
  /** Decompressed payload bytes. */
  rawBytes: number;
  /** Bytes as stored in the archive. */
  storedBytes: number;
}

export interface VerifyReport {
  ok: boolean;
  source: string;
  version: string | null;
  compression: string | null;
  entries: number;
  tables: TableReport[];
  largeObjects: { count: number; bytes: number };
  rawBytes: number;
  storedBytes: number;
  archiveBytes: number;
  defects: Array<{ code: string; message: string; offset?: number; hint?: string }>;
}

/** Number of columns named in `COPY x (a, b, "c,d") FROM stdin;`, or undefined if it cannot tell. */
export function copyColumnCount(copyStmt: string): number | undefined {
  const m = /\(([\s\S]*)\)\s+FROM\s+stdin/i.exec(copyStmt);
  if (!m) return undefined;
  let n = 1; let quoted = false;
  for (const ch of m[1]!) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) n++;
  }
  return n;
}

/** Counts rows of a COPY payload and checks each has `columns` fields and that `\.` ends the data. */
class CopyScanner {
  rows = 0;
  ended = false;
  badRow: { row: number; fields: number } | undefined;
  trailing = false;
  private fields = 1;
  private lineStart = true;
  private lineLen = 0;
  private firstBytes = '';

  constructor(private readonly columns: number | undefined) {}

  feed(b: Buffer): void {
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (this.ended) { if (c !== 0x0a) this.trailing = true; continue; }
      if (c === 0x0a) {
        if (this.lineLen === 2 && this.firstBytes === '\\.') { this.ended = true; continue; }
        this.rows++;
        if (this.columns !== undefined && this.fields !== this.columns && !this.badRow) this.badRow = { row: this.rows, fields: this.fields };
        this.fields = 1; this.lineLen = 0; this.firstBytes = ''; this.lineStart = true;
        continue;
      }
      if (this.lineLen < 2) this.firstBytes += String.fromCharCode(c);
      this.lineLen++;
      this.lineStart = false;
      if (c === 0x09) this.fields++;
    }
  }

  get partialLine(): boolean { return !this.ended && !this.lineStart; }
}

export async function verifyArchive(input: ArchiveInput): Promise<VerifyReport> {
  const report: VerifyReport = {
    ok: false, source: typeof input === 'string' ? input : 'stream', version: null, compression: null, entries: 0,
    tables: [], largeObjects: { count: 0, bytes: 0 }, rawBytes: 0, storedBytes: 0, archiveBytes: 0, defects: [],
  };
  const defect = (code: string, message: string, offset?: number, hint?: string) => report.defects.push({
    code, message, ...(offset !== undefined ? { offset } : {}), ...(hint !== undefined ? { hint } : {}),
  });
  let reader;
  try {
    reader = await openArchive(input);
    report.source = reader.name;
    report.version = versionText(reader.header);
    report.compression = reader.header.compression.level !== null && reader.header.compression.algorithm !== 'none'
      ? `gzip (level ${reader.header.compression.level})` : reader.header.compression.algorithm;
    report.entries = reader.entries.length;
    checkToc(reader.entries, defect);
    for await (const block of reader.blocks()) {
      // pg_restore seeks to the TOC's offset and gives up on a block of another entry found there;
      // this reader walks the blocks in order, so it has to compare.
      if (block.entry.offsetFlag === OFFSET_SET && block.entry.dataOffset !== block.offset) {
        defect('ARCHIVE_BAD_OFFSET', `the TOC places the data of ${describeEntry(block.entry)} (dumpId ${block.dumpId}) at offset ${block.entry.dataOffset}, but its block is at offset ${block.offset}`, block.offset);
      }
      if (block.kind === 'table-data') {
        const scanner = new CopyScanner(block.entry.copyStmt ? copyColumnCount(block.entry.copyStmt) : undefined);
        let raw = 0;
        for await (const b of block.payload()) { raw += b.length; if (block.entry.copyStmt) scanner.feed(b); }
        const where = `${describeEntry(block.entry)} (block at offset ${block.offset})`;
        if (block.entry.copyStmt) {
          if (!scanner.ended) defect('ARCHIVE_COPY_NO_END_MARKER', `${where}: COPY data does not end with the \\. marker${scanner.partialLine ? ' (last row is incomplete)' : ''}`, block.offset);
          if (scanner.trailing) defect('ARCHIVE_COPY_TRAILING_DATA', `${where}: data follows the \\. end marker`, block.offset);
          if (scanner.badRow) defect('ARCHIVE_COPY_COLUMN_MISMATCH', `${where}: row ${scanner.badRow.row} has ${scanner.badRow.fields} fields, the COPY statement names ${copyColumnCount(block.entry.copyStmt)}`, block.offset);
        }
        report.tables.push({ dumpId: block.dumpId, schema: block.entry.namespace, table: block.entry.tag, rows: scanner.rows, rawBytes: raw, storedBytes: block.storedBytes });
        report.rawBytes += raw;
        report.storedBytes += block.storedBytes;
      } else {
        for await (const lo of block.largeObjects()) {
          report.largeObjects.count++;
          for await (const b of lo.data()) { report.largeObjects.bytes += b.length; report.rawBytes += b.length; }
        }
        report.storedBytes += block.storedBytes;
      }
    }
    report.archiveBytes = reader.offset;
  } catch (err) {
    if (!isAppError(err)) throw toError(err);
    defect(err.code, err.message, typeof err.details?.offset === 'number' ? err.details.offset : undefined, err.hint);
    if (reader) report.archiveBytes = reader.offset;
  }
  report.ok = report.defects.length === 0;
  return report;
}

function checkToc(entries: TocEntry[], defect: (code: string, message: string, offset?: number) => void): void {
  const byId = new Map(entries.map((e) => [e.dumpId, e]));
  const dataOf = new Map<string, TocEntry>();
  for (const e of entries) {
    if (e.desc === 'TABLE DATA') {
      const table = byId.get(e.dependencies[0] ?? 0);
      if (!table) defect('ARCHIVE_BAD_TABLE_DATA', `${describeEntry(e)} (dumpId ${e.dumpId}): its first dependency is not an entry of this archive (pg_restore requires the TABLE)`, e.tocOffset);
      // pg_dump writes one per table; a restore loads each, so a second one adds its rows again.
      const name = JSON.stringify([e.namespace, e.tag]);
      const first = dataOf.get(name);
      if (first) defect('ARCHIVE_DUPLICATE_TABLE_DATA', `${describeEntry(e)} has two TABLE DATA entries (dumpIds ${first.dumpId} and ${e.dumpId}): a restore would load both`, e.tocOffset);
      else dataOf.set(name, e);
      if (!e.hadDumper) defect('ARCHIVE_BAD_TABLE_DATA', `${describeEntry(e)} (dumpId ${e.dumpId}) has no data block`, e.tocOffset);
    }
    if (e.withOids !== null && e.withOids !== 'false') defect('ARCHIVE_WITH_OIDS', `${describeEntry(e)} is marked WITH OIDS, which PostgreSQL 12+ cannot restore`, e.tocOffset);
  }
}
