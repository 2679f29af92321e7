/**
 * Writer of pg_dump custom-format archives, version 1.14 — the newest version pg_restore 12–15
 * read, and one every newer pg_restore still reads.
 *
 * The TOC must be complete before any data, so the caller declares every entry up front and then
 * supplies the data blocks in TOC order. Written to a file, the TOC is rewritten in place at the
 * end with the data offsets filled in (same length, so nothing moves), which lets pg_restore seek
 * and restore in parallel; written to a stream such as stdout, offsets stay "not set" and the
 * archive is still complete (pg_restore then scans blocks in order, as for `pg_dump -Fc | …`).
 */
import { once } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { constants as zlibConstants } from 'node:zlib';
import { AppError } from '../errors/index.ts';
import type { BufferPool } from './buffer-pool.ts';
import { deflateParallel } from './deflate.ts';
import { encodeCopyRow, type CopyValue } from './copy-text.ts';
import {
  BLOCK_BLOBS, BLOCK_DATA, FORMAT_CUSTOM, MAGIC, OFFSET_NO_DATA, OFFSET_NOT_SET, OFFSET_SET, SECTION_DATA,
  SECTION_NONE, SECTION_POST_DATA, SECTION_PRE_DATA,
} from './format.ts';

export interface WriterEntry {
  /** Positive and unique; keep ids small and dense (pg_restore sizes arrays by the largest). */
  dumpId: number;
  desc: string;
  /** Unquoted object name. */
  tag: string;
  section: number;
  tableoid?: string;
  oid?: string;
  defn?: string | null;
  dropStmt?: string | null;
  /** `COPY schema.table (cols) FROM stdin;\n` for TABLE DATA entries. */
  copyStmt?: string | null;
  /** Unquoted schema name. */
  namespace?: string | null;
  tablespace?: string | null;
  tableam?: string | null;
  owner?: string | null;
  dependencies?: number[];
  /** True for entries that own a data block (TABLE DATA, BLOBS). */
  hasData?: boolean;
}

export interface ArchiveWriterOptions {
  /** A file path (seekable: offsets are filled in) or a writable stream (offsets left unset). */
  output: string | Writable;
  entries: WriterEntry[];
  /** 0 = uncompressed, -1 = zlib default (6), 1–9 = zlib level. Default -1. */
  compressionLevel?: number;
  dbname: string;
  serverVersion: string;
  dumperVersion?: string;
  createdAt?: Date;
  /** Pieces deflated concurrently on the thread pool (default 3). */
  parallelism?: number;
  /**
   * zlib strategy. 'filtered' leaves matches shorter than 6 bytes as literals: on COPY text
   * (hex bytea, ids, timestamps) that is faster and usually smaller; either reads the same.
   */
  zlibStrategy?: 'default' | 'filtered';
  /** fsync the file before closing (file outputs only). */
  fsync?: boolean;
  /**
   * Pool the data producer takes its buffers from (see BufferPool): compressed input goes back to
   * it, and it sets the compressor's piece size.
   */
  pool?: BufferPool;
}

export interface BlockStats { dumpId: number; rawBytes: number; storedBytes: number }

export interface ArchiveWriteSummary {
  bytes: number;
  offsetsWritten: boolean;
  blocks: BlockStats[];
}

const INT_SIZE = 4;
const OFF_SIZE = 8;
export const WRITER_VERSION = { major: 1, minor: 14, rev: 0 };

/** Serialises archive primitives into a growing list of buffers. */
class Encoder {
  private parts: Buffer[] = [];
  byte(v: number): void { this.parts.push(Buffer.from([v])); }
  int(v: number): void {
    const mag = Math.abs(v);
    if (!Number.isInteger(v) || mag > 0xffffffff) throw new AppError('ARCHIVE_WRITE_INVALID', `integer ${v} does not fit an archive int`);
    const b = Buffer.alloc(1 + INT_SIZE);
    b[0] = v < 0 ? 1 : 0;
    b.writeUInt32LE(mag, 1);
    this.parts.push(b);
  }
  string(s: string | null | undefined): void {
    if (s === null || s === undefined) { this.int(-1); return; }
    const bytes = Buffer.from(s, 'utf8');
    this.int(bytes.length);
    this.parts.push(bytes);
  }
  offset(flag: number, position: number): void {
    const b = Buffer.alloc(1 + OFF_SIZE);
    b[0] = flag;
    b.writeBigUInt64LE(BigInt(position), 1);
    this.parts.push(b);
  }
  raw(b: Buffer): void { this.parts.push(b); }
  toBuffer(): Buffer { return Buffer.concat(this.parts); }
}

/** Where archive bytes go; tracks the position so block offsets are known. */
interface Sink {
  position: number;
  readonly seekable: boolean;
  write(b: Buffer): Promise<void>;
  patch(position: number, b: Buffer): Promise<void>;
  close(fsync: boolean): Promise<void>;
  abort(): Promise<void>;
}

class FileSink implements Sink {
  position = 0;
  readonly seekable = true;
  private pending: Buffer[] = [];
  private pendingSize = 0;
  constructor(private readonly fh: FileHandle, private readonly path: string) {}
  async write(b: Buffer): Promise<void> {
    this.position += b.length;
    this.pending.push(b);
    this.pendingSize += b.length;
    if (this.pendingSize >= 1 << 20) await this.flush();
  }
  private async flush(): Promise<void> {
    if (this.pendingSize === 0) return;
    // Gathered by writev rather than concatenated: no 1 MiB copy and allocation per flush.
    let parts = this.pending;
    this.pending = []; this.pendingSize = 0;
    try {
      // writev may write less than asked (as write(2) may); what is left is written again.
      while (parts.length > 0) {
        const { bytesWritten } = await this.fh.writev(parts);
        if (bytesWritten === 0) throw new Error('the file system accepted none of the bytes');
        parts = afterBytes(parts, bytesWritten);
      }
    } catch (err) {
      throw new AppError('ARCHIVE_WRITE_FAILED', `cannot write archive ${this.path}: ${(err as Error).message}`, { cause: err, hint: writeHint(this.path) });
    }
  }
  async patch(position: number, b: Buffer): Promise<void> {
    await this.flush();
    await this.fh.write(b, 0, b.length, position);
  }
  async close(fsync: boolean): Promise<void> {
    await this.flush();
    if (fsync) await this.fh.sync();
    await this.fh.close();
  }
  async abort(): Promise<void> { await this.fh.close().catch(() => undefined); }
}

class StreamSink implements Sink {
  position = 0;
  readonly seekable = false;
  private pending: Buffer[] = [];
  private pendingSize = 0;
  constructor(private readonly out: Writable) {}
  async write(b: Buffer): Promise<void> {
    this.position += b.length;
    this.pending.push(b);
    this.pendingSize += b.length;
    if (this.pendingSize >= 256 * 1024) await this.flush();
  }
  private async flush(): Promise<void> {
    if (this.pendingSize === 0) return;
    const buf = Buffer.concat(this.pending, this.pendingSize);
    this.pending = []; this.pendingSize = 0;
    if (this.out.destroyed) throw new AppError('ARCHIVE_WRITE_FAILED', 'the output stream was closed before the archive was complete');
    if (!this.out.write(buf)) await once(this.out, 'drain');
  }
  async patch(): Promise<void> {
    throw new AppError('ARCHIVE_WRITE_INVALID', 'cannot patch a non-seekable output');
  }
  async close(): Promise<void> {
    await this.flush();
    // stdout/stderr must not be ended; other streams are finished so the caller sees 'finish'.
    if (this.out === process.stdout || this.out === process.stderr) {
      if (this.out.writableNeedDrain) await once(this.out, 'drain');
      return;
    }
    this.out.end();
    if (!this.out.writableFinished) await once(this.out, 'finish');
  }
  async abort(): Promise<void> {}
}

/** The buffers that remain of `parts` once its first `n` bytes are gone. */
function afterBytes(parts: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < parts.length && n >= parts[i]!.length) n -= parts[i++]!.length;
  const rest = parts.slice(i);
  if (rest.length > 0 && n > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}

function validate(entries: WriterEntry[]): void {
  const ids = new Set<number>();
  const maxId = Math.max(0, ...entries.map((e) => e.dumpId));
  for (const e of entries) {
    const name = `${e.desc} ${e.tag}`;
    if (!Number.isInteger(e.dumpId) || e.dumpId <= 0) throw new AppError('ARCHIVE_WRITE_INVALID', `${name}: dumpId must be a positive integer`);
    if (ids.has(e.dumpId)) throw new AppError('ARCHIVE_WRITE_INVALID', `${name}: duplicate dumpId ${e.dumpId}`);
    ids.add(e.dumpId);
    if (![SECTION_NONE, SECTION_PRE_DATA, SECTION_DATA, SECTION_POST_DATA].includes(e.section)) {
      throw new AppError('ARCHIVE_WRITE_INVALID', `${name}: section ${e.section} is not 1–4`);
    }
    if (e.desc === 'TABLE DATA') {
      const first = e.dependencies?.[0];
      if (first === undefined || first <= 0 || first > maxId) {
        throw new AppError('ARCHIVE_WRITE_INVALID', `${name}: the first dependency of TABLE DATA must be its TABLE entry`);
      }
    }
  }
}

function encodeEntry(enc: Encoder, e: WriterEntry, offsetFlag: number, position: number): void {
  enc.int(e.dumpId);
  enc.int(e.hasData ? 1 : 0);
  enc.string(e.tableoid ?? '0');
  enc.string(e.oid ?? '0');
  enc.string(e.tag);
  enc.string(e.desc);
  enc.int(e.section);
  enc.string(e.defn ?? null);
  enc.string(e.dropStmt ?? null);
  enc.string(e.copyStmt ?? null);
  enc.string(e.namespace ?? null);
  enc.string(e.tablespace ?? null);
  enc.string(e.tableam ?? null);
  enc.string(e.owner ?? null);
  enc.string('false');
  for (const d of e.dependencies ?? []) enc.string(String(d));
  enc.string(null);
  enc.offset(offsetFlag, position);
}

/** Local broken-down time, as pg_dump records it. */
function headerTime(enc: Encoder, d: Date): void {
  const jan = new Date(d.getFullYear(), 0, 1).getTimezoneOffset();
  const jul = new Date(d.getFullYear(), 6, 1).getTimezoneOffset();
  const isdst = jan !== jul && d.getTimezoneOffset() === Math.min(jan, jul) ? 1 : 0;
  for (const v of [d.getSeconds(), d.getMinutes(), d.getHours(), d.getDate(), d.getMonth(), d.getFullYear() - 1900, isdst]) enc.int(v);
}

export class ArchiveWriter {
  private readonly dataEntries: WriterEntry[];
  private next = 0;
  private readonly positions = new Map<number, number>();
  private readonly stats: BlockStats[] = [];
  private finished = false;

  private constructor(
    private readonly sink: Sink,
    private readonly options: ArchiveWriterOptions,
    private readonly tocStart: number,
    private readonly level: number,
  ) {
    this.dataEntries = options.entries.filter((e) => e.hasData);
  }

  /** Writes the header and the complete TOC; data blocks follow through writeTableData/writeBlobs. */
  static async create(options: ArchiveWriterOptions): Promise<ArchiveWriter> {
    validate(options.entries);
    const level = options.compressionLevel ?? -1;
    if (!Number.isInteger(level) || level < -1 || level > 9) throw new AppError('ARCHIVE_WRITE_INVALID', `compression level ${level} is not -1..9`);
    let sink: Sink;
    if (typeof options.output === 'string') {
      try {
        // Only for this user: an archive holds every tenant's workspaces and conversations.
        sink = new FileSink(await open(options.output, 'w', 0o600), options.output);
      } catch (err) {
        throw new AppError('ARCHIVE_WRITE_FAILED', `cannot create archive ${options.output}: ${(err as Error).message}`, { cause: err, hint: writeHint(options.output) });
      }
    } else {
      sink = new StreamSink(options.output);
    }
    const enc = new Encoder();
    enc.raw(MAGIC);
    enc.byte(WRITER_VERSION.major); enc.byte(WRITER_VERSION.minor); enc.byte(WRITER_VERSION.rev);
    enc.byte(INT_SIZE); enc.byte(OFF_SIZE); enc.byte(FORMAT_CUSTOM);
    enc.int(level);
    headerTime(enc, options.createdAt ?? new Date());
    enc.string(options.dbname);
    enc.string(options.serverVersion);
    enc.string(options.dumperVersion ?? `${options.serverVersion} (astore)`);
    enc.int(options.entries.length);
    const header = enc.toBuffer();
    const writer = new ArchiveWriter(sink, options, header.length, level);
    try {
      await sink.write(header);
      await sink.write(writer.tocBytes(false));
    } catch (err) {
      await sink.abort();
      throw err;
    }
    return writer;
  }

  private tocBytes(withOffsets: boolean): Buffer {
    const enc = new Encoder();
    for (const e of this.options.entries) {
      const pos = this.positions.get(e.dumpId);
      const flag = !e.hasData ? OFFSET_NO_DATA : withOffsets && pos !== undefined ? OFFSET_SET : OFFSET_NOT_SET;
      encodeEntry(enc, e, flag, flag === OFFSET_SET ? pos! : 0);
    }
    return enc.toBuffer();
  }

  /** Archive bytes produced so far (for progress reporting). */
  get bytesWritten(): number { return this.sink.position; }

  /** The data-bearing entry whose block must come next (blocks are written in TOC order). */
  private expect(dumpId: number, kind: string): WriterEntry {
    const e = this.dataEntries[this.next];
    if (!e || e.dumpId !== dumpId) {
      throw new AppError('ARCHIVE_WRITE_ORDER', `data for dumpId ${dumpId} (${kind}) written out of order: expected ${e ? `dumpId ${e.dumpId} (${e.desc} ${e.tag})` : 'no more data blocks'}`);
    }
    this.next++;
    return e;
  }

  private async blockHeader(type: number, dumpId: number): Promise<void> {
    this.positions.set(dumpId, this.sink.position);
    const enc = new Encoder();
    enc.byte(type);
    enc.int(dumpId);
    await this.sink.write(enc.toBuffer());
  }

  /** Writes one chunk stream: compressed (one zlib stream) or raw, never an empty chunk, then the terminator. */
  private async chunkStream(input: AsyncIterable<Buffer>, stats: BlockStats): Promise<void> {
    const counted = (async function* () {
      for await (const b of input) { stats.rawBytes += b.length; yield b; }
    })();
    const out = this.level === 0 ? coalesce(counted, 64 * 1024, this.options.pool) : deflateParallel(counted, {
        level: this.level, parallelism: this.options.parallelism, pool: this.options.pool,
        strategy: this.options.zlibStrategy === 'filtered' ? zlibConstants.Z_FILTERED : zlibConstants.Z_DEFAULT_STRATEGY,
      });
    for await (const b of out) {
      if (b.length === 0) continue;
      const enc = new Encoder();
      enc.int(b.length);
      await this.sink.write(enc.toBuffer());
      await this.sink.write(b);
      stats.storedBytes += b.length;
    }
    await this.sink.write(Buffer.alloc(1 + INT_SIZE)); // zero length: end of the chunk stream
  }

  /**
   * Writes the data block of a TABLE DATA entry. `copyData` is COPY text (as `COPY … TO STDOUT`
   * produces it) without end marker; the writer appends pg_dump's `\.` terminator.
   */
  async writeTableData(dumpId: number, copyData: AsyncIterable<Buffer | string>): Promise<BlockStats> {
    this.expect(dumpId, 'table data');
    const stats: BlockStats = { dumpId, rawBytes: 0, storedBytes: 0 };
    await this.blockHeader(BLOCK_DATA, dumpId);
    await this.chunkStream(withEndMarker(copyData), stats);
    this.stats.push(stats);
    return stats;
  }

  /** Writes the BLOBS block: each large object's bytes (objects must have BLOB entries in the TOC). */
  async writeBlobs(dumpId: number, objects: AsyncIterable<{ oid: number; data: AsyncIterable<Buffer> }>): Promise<BlockStats> {
    this.expect(dumpId, 'large objects');
    const stats: BlockStats = { dumpId, rawBytes: 0, storedBytes: 0 };
    await this.blockHeader(BLOCK_BLOBS, dumpId);
    for await (const lo of objects) {
      if (!Number.isInteger(lo.oid) || lo.oid <= 0 || lo.oid > 0xffffffff) throw new AppError('ARCHIVE_WRITE_INVALID', `large-object OID ${lo.oid} is not a valid OID`);
      const enc = new Encoder();
      enc.int(lo.oid | 0); // OIDs ≥ 2^31 are written as negative ints, as pg_dump does
      await this.sink.write(enc.toBuffer());
      await this.chunkStream(toBuffers(lo.data), stats);
    }
    const end = new Encoder();
    end.int(0);
    await this.sink.write(end.toBuffer());
    this.stats.push(stats);
    return stats;
  }

  /** Checks every data block was written, fills in the offsets when the output is a file, and closes it. */
  async finish(): Promise<ArchiveWriteSummary> {
    if (this.finished) throw new AppError('ARCHIVE_WRITE_INVALID', 'finish() called twice');
    const missing = this.dataEntries[this.next];
    if (missing) {
      await this.sink.abort();
      throw new AppError('ARCHIVE_WRITE_INCOMPLETE', `archive not complete: no data written for dumpId ${missing.dumpId} (${missing.desc} ${missing.tag})`);
    }
    this.finished = true;
    const bytes = this.sink.position;
    if (this.sink.seekable) await this.sink.patch(this.tocStart, this.tocBytes(true));
    await this.sink.close(this.options.fsync ?? false);
    return { bytes, offsetsWritten: this.sink.seekable, blocks: this.stats };
  }

  /** Abandons the archive (the caller removes a partial file). */
  async abort(): Promise<void> {
    this.finished = true;
    await this.sink.abort();
  }
}

const END_MARKER = Buffer.from('\\.\n\n\n');

async function* toBuffers(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  for await (const b of input) yield typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
}

async function* withEndMarker(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  // The last byte is noted, not the buffer: a yielded buffer may already be back in a pool.
  let lastByte = 0x0a;
  for await (const b of toBuffers(input)) { if (b.length > 0) { lastByte = b[b.length - 1]!; yield b; } }
  if (lastByte !== 0x0a) {
    throw new AppError('ARCHIVE_WRITE_INVALID', 'COPY data must end with a newline (a complete row)');
  }
  yield END_MARKER;
}

async function* coalesce(input: AsyncIterable<Buffer>, min: number, pool: BufferPool | undefined): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  const flush = (): Buffer => {
    const out = Buffer.concat(parts, size);
    for (const p of parts) pool?.give(p);
    parts = []; size = 0;
    return out;
  };
  for await (const b of input) {
    parts.push(b); size += b.length;
    if (size >= min) yield flush();
  }
  if (size > 0) yield flush();
}

/** COPY text for rows given as values (for callers that do not already have COPY output). */
export async function* copyTextFromRows(rows: AsyncIterable<readonly CopyValue[]> | Iterable<readonly CopyValue[]>): AsyncGenerator<Buffer> {
  let text = '';
  for await (const row of rows) {
    text += encodeCopyRow(row);
    if (text.length >= 64 * 1024) { yield Buffer.from(text, 'utf8'); text = ''; }
  }
  if (text.length > 0) yield Buffer.from(text, 'utf8');
}

/** What to do when the archive file cannot be created or written (a directory the operator chose). */
function writeHint(path: string): string {
  return `the directory ${dirname(path)} must exist (or be creatable), be writable by this process and have room: `
    + 'write the backup elsewhere (astore backup -o FILE), or for scheduled backups set store.backup.dir / STORE_BACKUP_DIR';
}
